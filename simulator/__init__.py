"""A local stand-in for Meta's WhatsApp Business Cloud API (tsunagi's demo and
tests).  It is Meta's side: it imports nothing from the rest of the project.

    python -m simulator          # serves on SIM_HOST:SIM_PORT (127.0.0.1:8090)
"""
from .app import create_app, simulator_of
from .config import SimConfig

__all__ = ["create_app", "simulator_of", "SimConfig"]
