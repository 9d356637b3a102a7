"""``python -m azml2aks`` runs the CLI."""

import sys

from azml2aks.cli import main

sys.exit(main())
