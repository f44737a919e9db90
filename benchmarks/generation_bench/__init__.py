"""Parts of ``benchmarks/generation.py`` (ours against the official-style SAM loop).

- :mod:`.timing`: exclusive per-stage times over threads and processes, CPU time, and
  peak memory of a process tree;
- :mod:`.sam_hooks`: timers around SAM's modules, the warm-up pass and the object-shaped
  masks of ``--masks box``;
- :mod:`.data`: the scenarios' images and boxes (crops and tiles of DOTA P0706, DIOR),
  one generation config per source;
- :mod:`.variants`: the two variants, each run in its own subprocess;
- :mod:`.report`: the Markdown tables of a result.
"""
