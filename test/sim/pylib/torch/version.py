# SIMULATED torch version file (a real torch install has torch/version.py too; preflight reads it as text).
__version__ = '2.7.1+simulated'
cuda = '12.6 (simulated)'
