from services.reporting.app import SERVICE
from shared.service import serve

serve(SERVICE)
