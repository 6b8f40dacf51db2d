# SIMULATED torch for the Speedrun Workbench test box: only answers version questions (preflight). No tensors.
import os

__version__ = os.environ.get("SIM_TORCH_VERSION", "2.7.1+simulated")
SIMULATED = True


class version:  # mirrors torch.version.cuda
    cuda = "12.6 (simulated)"
