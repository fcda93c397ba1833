"""A minimum-cost assignment of every row of a dense cost matrix to a distinct column (shortest
augmenting paths with potentials, as Crouse's method that scipy's linear_sum_assignment uses), in
numpy: for the small bursts of one community's decision, so that matching never needs scipy for
them (scipy is a third of the service's memory; domain/staffing.py uses it only for bursts too
big for this)."""
import numpy as np


def assign(cost: np.ndarray) -> np.ndarray:
    """The column of each row (rows <= columns; inf where a row may not go) in a full
    assignment of least total cost. Each row costs one shortest path, each step of which is
    one pass over the columns: O(rows² × columns) at worst, much less when few rows compete."""
    height, width = cost.shape
    # A start that is optimal so far: each row's potential is its cheapest cost, and the first
    # row to want a column gets it; only the others need a search.
    cheapest = np.argmin(cost, axis=1)
    u, v = cost[np.arange(height), cheapest].copy(), np.zeros(width)
    row_of, column_of = np.full(width, -1, dtype=np.intp), np.full(height, -1, dtype=np.intp)
    wanted, first = np.unique(cheapest, return_index=True)
    row_of[wanted], column_of[first] = first, wanted
    for row in np.flatnonzero(column_of < 0).tolist():
        _augment(cost, u, v, row_of, column_of, row)
    return column_of


def _augment(cost, u, v, row_of, column_of, start: int) -> None:
    """Give `start` a column along the shortest path of reduced costs, and move the potentials
    so that every reduced cost stays >= 0 and those of the assignment 0."""
    shortest, via = np.full(len(v), np.inf), np.full(len(v), -1, dtype=np.intp)
    closed = np.zeros(len(v))  # inf once a column's path is final
    rows, columns, reach, row = [start], [], 0.0, start
    while True:
        reduced = cost[row] + (reach - u[row]) - v + closed
        closer = reduced < shortest
        shortest[closer], via[closer] = reduced[closer], row
        column = int(np.argmin(shortest + closed))
        reach = shortest[column]
        closed[column] = np.inf
        columns.append(column)
        if row_of[column] < 0:
            break
        row = int(row_of[column])
        rows.append(row)
    u[start] += reach
    others = np.array(rows[1:], dtype=np.intp)
    u[others] += reach - shortest[column_of[others]]
    v[columns] -= reach - shortest[columns]
    while True:  # along the path back to the start
        row = int(via[column])
        row_of[column], column_of[row], column = row, column, column_of[row]
        if row == start:
            break
