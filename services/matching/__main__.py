from services.matching.app import SERVICE
from shared.service import serve

serve(SERVICE)
