from services.intake.app import SERVICE
from shared.service import serve

serve(SERVICE)
