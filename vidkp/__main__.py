"""`python -m vidkp` runs the command-line app."""
from vidkp.cli import app

if __name__ == "__main__":
    app()
