"""What the sandbox's server of a brand account is built from, on every network."""

from __future__ import annotations

from cmtui.sandbox.clock import Clock
from cmtui.sandbox.world import Person, World


class OwnedServer:
    """A network's server for one brand account, built as `Server(host, world, owner, token,
    clock)` (`network.owned`): the host it answers on, the world it serves, the brand's person
    on that network (`owner`), the secret it accepts (`token`: a token, a password or an app's
    secrets, as the network has them) and the scenario's clock. A network's own state is made
    by `setup`, once those are set."""

    def __init__(self, host: str, world: World, owner: Person, token: str, clock: Clock) -> None:
        self.host = host
        self.world = world
        self.owner = owner
        self.token = token
        self.clock = clock
        self.setup()

    def setup(self) -> None:
        """Make the network's own state (routes, limits, what the brand did)."""
