"""The simulator's aiohttp application."""
from __future__ import annotations

from aiohttp import web

from . import control_api, graph_api, page
from .config import SimConfig
from .core import Simulator
from .graph_api import SIM_KEY


def create_app(config: SimConfig | None = None) -> web.Application:
    """Build the simulator app.  ``config`` defaults to the environment."""
    config = config or SimConfig.from_env()
    sim = Simulator(config)
    app = web.Application(client_max_size=config.max_request_bytes)
    app[SIM_KEY] = sim

    async def start(_: web.Application) -> None:
        await sim.dispatcher.start()

    async def stop(_: web.Application) -> None:
        await sim.dispatcher.close()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    page.add_routes(app)
    control_api.add_routes(app)
    graph_api.add_routes(app)
    return app


def simulator_of(app: web.Application) -> Simulator:
    """The :class:`Simulator` behind an app (for tests and embedding)."""
    return app[SIM_KEY]
