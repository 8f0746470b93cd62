import sys
from pathlib import Path

# events_harness is shared by the event tests and run by them as a subprocess.
sys.path.insert(0, str(Path(__file__).parent))
