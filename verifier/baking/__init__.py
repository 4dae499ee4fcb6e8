"""Baked badges, format by format; callers use :mod:`verifier.baked` (extract, bake, errors).

* :mod:`.common`: what every format shares: :class:`~.common.BakedImageError`, the
  :class:`~.common.BakedPayload` found, sniffing an image's kind from its bytes, and
  classifying a payload (JSON, compact JWS, OB 2.0 assertion URL).
* :mod:`.png`: PNG chunks walked by hand, the one ``openbadgecredential`` iTXt chunk.
* :mod:`.svg`: SVG scanned by a streaming defusedxml parser, the one ``<openbadges:credential>``.
"""
