# SIMULATED torch for the Speedrun Workbench test box: only answers version questions. No tensors.
from .version import __version__

SIMULATED = True
