"""``liveguard demo``: a simulated shop on real loopback servers, with a scripted evening.

An adapter-level package (no UI): :class:`DemoWorld` starts the servers and the story on a
background thread and writes an ordinary config pointing at them; the control room then
runs on that config exactly as it would for a real shop.
"""

from .config import DemoUrls, demo_config_text
from .runner import DemoWorld
from .shop import CHANNELS, Received, Shop
from .story import BEATS, DEFAULT_SEED, LENGTH_S, Story

__all__ = [
    "BEATS",
    "CHANNELS",
    "DEFAULT_SEED",
    "LENGTH_S",
    "DemoUrls",
    "DemoWorld",
    "Received",
    "Shop",
    "Story",
    "demo_config_text",
]
