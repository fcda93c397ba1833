"""`python -m services.reporting` runs the service; `python -m services.reporting rebuild`
rebuilds its figures from the event archive and exits."""
import asyncio
import logging
import sys

from services.reporting.app import SERVICE
from services.reporting.rebuild import rebuild
from shared.service import serve
from shared.settings import get_settings

if sys.argv[1:] == ["rebuild"]:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s reporting %(levelname)s %(name)s: %(message)s")
    asyncio.run(rebuild(get_settings()))
elif sys.argv[1:]:
    sys.exit(f"usage: python -m services.reporting [rebuild]; not {' '.join(sys.argv[1:])!r}")
else:
    serve(SERVICE)
