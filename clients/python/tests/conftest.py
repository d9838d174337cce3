import sys
from pathlib import Path

# The tests import `support` beside them; `pythonpath` in pyproject.toml adds src/.
sys.path.insert(0, str(Path(__file__).parent))
