"""The WSGI app (`flask --app run`, `gunicorn run:app`); `python run.py` runs the dev stack."""

import sys

if __name__ == "__main__":
    from app.devstack import main

    sys.exit(main())

from app import create_app  # noqa: E402

app = create_app()
