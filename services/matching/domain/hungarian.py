"""A minimum-cost assignment of every row of a dense cost matrix to a distinct column (the
Hungarian method by shortest augmenting paths, with potentials), in numpy: for the small
bursts of one community's decision, so that matching never needs scipy for them (scipy is a
third of the service's memory; domain/staffing.py uses it only for bursts too big for this)."""
import numpy as np


def assign(cost: np.ndarray) -> np.ndarray:
    """The column of each row (rows <= columns; inf where a row may not go) in a full
    assignment of least total cost. Each row costs one shortest path, each step of which is
    one pass over the columns: O(rows² × columns) at worst, much less when few rows compete."""
    height, width = cost.shape
    row_at = np.zeros(width + 1, dtype=np.intp)  # the row (from 1) in each column (from 1; 0: the start)
    # A start that is optimal so far: each row's potential is its cheapest cost, and the first
    # row to want a column gets it; only the others need a search.
    cheapest = np.argmin(cost, axis=1)
    u, v = np.concatenate([[0.0], cost[np.arange(height), cheapest]]), np.zeros(width + 1)
    wanted, first = np.unique(cheapest, return_index=True)
    row_at[wanted + 1] = first + 1
    for row in np.setdiff1d(np.arange(1, height + 1), first + 1).tolist():
        row_at[0], column = row, 0
        shortest, via = np.full(width + 1, np.inf), np.zeros(width + 1, dtype=np.intp)
        done = np.zeros(width + 1, dtype=bool)
        while row_at[column]:
            done[column] = True
            here = row_at[column]
            reduced = cost[here - 1] - u[here] - v[1:]
            closer = ~done[1:] & (reduced < shortest[1:])
            shortest[1:][closer], via[1:][closer] = reduced[closer], column
            open_ = np.where(done[1:], np.inf, shortest[1:])
            nearest = int(np.argmin(open_)) + 1
            delta = open_[nearest - 1]
            u[row_at[done]] += delta
            v[done] -= delta
            shortest[1:][~done[1:]] -= delta
            column = nearest
        while column:
            row_at[column] = row_at[via[column]]
            column = via[column]
    columns = np.empty(height, dtype=np.intp)
    taken = np.flatnonzero(row_at[1:])
    columns[row_at[1:][taken] - 1] = taken
    return columns
