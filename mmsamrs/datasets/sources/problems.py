"""Bad input met by the source readers: the kinds of problem, :class:`AnnotationError`
and the :class:`SourceReport` a reader keeps.

Each problem has a kind; ``strict`` (an argument of every reader) decides what
happens:

========================  ==========================================  =================
kind                      what                                        strict=False
========================  ==========================================  =================
``unknown_class``         a class name that maps to no SAMRS class    skip the object
``bad_fields``            wrong number of fields / missing XML field  skip the object
``bad_number``            NaN, inf or non-numeric value               skip the object
``zero_area``             box of zero width, height or area           skip the object
``outside_image``         box entirely outside the image              skip the object
``far_outside``           a corner farther outside than the tolerance skip the object
``bad_id``                image id not a plain file stem (``../x``)   skip the line
``duplicate_id``          image id listed again in the split file     read it once
``duplicate_image``       image stem with several suffixes            read the first
``broken_xml``            unparsable XML or wrong root element        skip the image
``missing_image``         annotation whose image does not exist       skip the image
``missing_annotation``    id of the split file without annotation     skip the image
``bad_image``             image header unreadable (size unknown)      skip the image
``empty_file``            annotation file with no content at all      keep, no objects
``missing_mask``          HRSC image says segmented, mask file absent keep, no mask
========================  ==========================================  =================

With ``strict=True`` (default) the first problem raises :class:`AnnotationError`, whose
message names the file (and the line for text formats, the object number for XML) and
what was expected. With ``strict=False`` it is recorded in ``dataset.report`` and only the
object (or image) is skipped. Boxes that stick out of the image are clipped in both modes
and counted (``report.counts['clipped']``); they are not problems. An annotation file with
header lines or an XML root but no objects is a valid image without objects; only a file
with no content at all is ``empty_file`` (``allow_empty=True`` accepts those silently,
e.g. background patches written by a splitter).
"""
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional

from mmsamrs.utils import atomic_write_json

SKIP_OBJECT = 'skipped object'
SKIP_IMAGE = 'skipped image'
SKIP_COUNTS = {SKIP_OBJECT: 'skipped_objects', SKIP_IMAGE: 'skipped_images'}


class AnnotationError(ValueError):
    """A problem in a source annotation: ``kind`` (see module docstring), where, what.

    ``str(err)`` reads ``'<file>, line <n>: <detail>'`` (``object <n>`` for XML).
    """

    def __init__(self, kind: str, detail: str, file: Optional[str] = None,
                 line: Optional[int] = None, obj: Optional[int] = None) -> None:
        super().__init__(kind, detail)
        self.kind = kind
        self.detail = detail
        self.file = file
        self.line = line
        self.obj = obj

    def locate(self, file: str, line: Optional[int] = None,
               obj: Optional[int] = None) -> 'AnnotationError':
        """Fill in the location where it is not known yet; return ``self``."""
        self.file = self.file or file
        self.line = self.line if self.line is not None else line
        self.obj = self.obj if self.obj is not None else obj
        return self

    def __str__(self) -> str:
        where = [self.file or '<unknown file>']
        if self.line is not None:
            where.append(f'line {self.line}')
        if self.obj is not None:
            where.append(f'object {self.obj}')
        return f"{', '.join(where)}: {self.detail}"


@dataclass
class Problem:
    """One recorded problem: its kind, location, message and what the reader did."""

    kind: str
    file: Optional[str]
    message: str
    action: str
    line: Optional[int] = None
    object: Optional[int] = None


class SourceReport:
    """What a reader met: ``problems`` (list of :class:`Problem`) and ``counts``.

    ``counts`` holds ``annotation_files``, ``images`` and ``instances`` kept,
    ``clipped`` boxes, ``skipped_objects``, ``skipped_images``, ``empty_files``,
    ``filtered_images`` (not selected, e.g. HRSC ``masks_only``) and one
    entry per problem kind.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: List[Problem] = []
        self.counts: Counter = Counter()

    def add(self, err: AnnotationError, action: str) -> None:
        """Record ``err`` and the ``action`` taken."""
        self.problems.append(
            Problem(err.kind, err.file, str(err), action, err.line, err.obj))
        self.counts[err.kind] += 1

    def to_dict(self) -> Dict[str, Any]:
        """Return a JSON-serialisable dict: ``source``, ``counts``, ``problems``."""
        return dict(source=self.source, counts=dict(sorted(self.counts.items())),
                    problems=[asdict(p) for p in self.problems])

    def dump(self, path: str) -> None:
        """Write :meth:`to_dict` as JSON to ``path`` (atomically)."""
        atomic_write_json(path, self.to_dict(), indent=2)

    def summary(self) -> str:
        """One line: images/instances kept, clipped boxes, problems by kind."""
        c = self.counts
        text = (f'{self.source}: {c["images"]} images, {c["instances"]} instances '
                f'from {c["annotation_files"]} annotation files; {c["clipped"]} boxes '
                f'clipped; {len(self.problems)} problems')
        kinds = Counter(p.kind for p in self.problems)
        if kinds:
            text += ' (' + ', '.join(f'{k}: {n}' for k, n in sorted(kinds.items())) + ')'
        return text
