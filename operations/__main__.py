from operations.cli import app

app(prog_name="linli")
