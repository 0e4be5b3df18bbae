from promptcanvas.entrypoints.cli.main import app

app()
