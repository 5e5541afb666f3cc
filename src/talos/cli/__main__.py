import sys

from talos.cli import main

sys.exit(main())
