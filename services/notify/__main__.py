from services.notify.app import SERVICE
from shared.service import serve

serve(SERVICE)
