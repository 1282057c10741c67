"""IO stage (7): fits to files and back, and the bundled data sets.

Modules: :mod:`.persist` (a fit to versioned JSON, :func:`~.persist.save_fit`, and the pieces of
a saved fit back, :func:`~.persist.load_parts`; the file format and what loading checks are in
its docstring), :mod:`.fitfile` (reading a file defensively), :mod:`.jsoncodec` (JSON encoding
of arrays, records and data-frame columns), :mod:`.fitload` (a checked document → design and
engine fit at the stored estimates), :mod:`.fitcheck` (stored estimates against recomputed
ones), and :mod:`.datasets` (the classic data sets, with their CSV/JSON files).

Imports: the earlier stages only. The fitted-model class lives at the top: this stage returns
its pieces (design, engine fit, formula) and :func:`mixedfit.load_fit` builds it from them.
"""
