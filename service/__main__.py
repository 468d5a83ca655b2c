"""`python -m service`: start the production server with the settings from the environment;
`python -m service reload`: make the running server load the current model (SIGHUP to its master)."""
import sys

from .server import main

sys.exit(main())
