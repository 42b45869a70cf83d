"""Renderers of levels and env states to observations.

- :mod:`~mazegen.render.mono`: flat-colour frames (one colour per object kind).
- :mod:`~mazegen.render.textured`: procgen's textured 64x64 frames.
- :mod:`~mazegen.render.assets`: the textures the textured renderer draws.
"""
