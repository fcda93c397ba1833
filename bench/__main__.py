"""`python -m bench` (or `make bench`): every benchmark, one JSON document on stdout."""
import asyncio
import json

from bench import pipeline

print(json.dumps({"pipeline": asyncio.run(pipeline.main())}, indent=2))
