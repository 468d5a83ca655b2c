"""`python -m service`: start the production server with the settings from the environment."""
import sys

from .server import main

sys.exit(main())
