"""What was wrong with a message, said without repeating what it held (a resident's name or
number must not reach a rejection or a log line)."""
from pydantic import ValidationError

MAX_PROBLEMS = 5


def describe(error: ValidationError) -> str:
    """"beneficiary.phone: String should match pattern …; and 2 more": places and rules, no input."""
    problems = [f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in error.errors(include_input=False)]
    more = len(problems) - MAX_PROBLEMS
    return "; ".join(problems[:MAX_PROBLEMS]) + (f"; and {more} more" if more > 0 else "")
