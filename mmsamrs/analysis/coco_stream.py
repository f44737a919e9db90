"""Streaming reader of COCO JSON files: one annotation in memory at a time.

A SAMRS ``instances.json`` holds every instance's RLE mask and easily outgrows memory
(the paper's 1.67 million instances), so nothing here loads it whole: the top-level
object is walked key by key and the elements of its arrays (``images``, ``annotations``,
``categories``) are decoded one by one with :meth:`json.JSONDecoder.raw_decode` over a
buffer refilled in fixed-size chunks. Any key order is accepted (the generator writes
``annotations`` first, most COCO files ``images`` first).
"""
from __future__ import annotations

import json
import math
import os
import re
import sys
from typing import (Any, Collection, Dict, Iterable, Iterator, List, Optional, TextIO,
                    Tuple)

from mmengine.utils import ProgressBar

CHUNK_CHARS = 1 << 20
_NON_SPACE = re.compile(r'[^ \t\n\r]')


class _Reader:
    """Chunked JSON token reader over a text file."""

    def __init__(self, file: TextIO, chunk_chars: int,
                 bar: Optional[ProgressBar] = None) -> None:
        self._file = file
        self._chunk_chars = chunk_chars
        self._bar = bar
        self._buf = ''
        self._pos = 0
        self._eof = False
        self._decoder = json.JSONDecoder()

    def _fill(self) -> bool:
        """Append the next chunk (dropping what was consumed); False at end of file."""
        if self._eof:
            return False
        data = self._file.read(self._chunk_chars)
        if not data:
            self._eof = True
            return False
        self._buf = self._buf[self._pos:] + data
        self._pos = 0
        if self._bar is not None:
            self._bar.update()
        return True

    def peek(self) -> str:
        """The next non-blank character ('' at end of file), not consumed."""
        while True:
            match = _NON_SPACE.search(self._buf, self._pos)
            if match is not None:
                self._pos = match.start()
                return self._buf[self._pos]
            self._pos = len(self._buf)
            if not self._fill():
                return ''

    def take(self, expected: str) -> str:
        """Consume the next non-blank character, which must be one of ``expected``."""
        char = self.peek()
        if not char or char not in expected:
            raise ValueError(f'{self._file.name}: expected one of {expected!r} in the JSON, '
                             f'found {char or "end of file"!r}')
        self._pos += 1
        return char

    def value(self) -> Any:
        """Decode the next complete JSON value, reading more chunks while it is cut off."""
        self.peek()
        while True:
            try:
                obj, end = self._decoder.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError:
                if not self._fill():
                    raise
                continue
            cut = end == len(self._buf) or (isinstance(obj, (int, float))
                                             and self._buf[end] in '.eE')
            if cut and self._fill():
                continue  # a number at the end of the buffer may go on in the next chunk
            self._pos = end
            return obj


def iter_coco(path: str, keys: Collection[str], chunk_chars: Optional[int] = None,
              progress: bool = False) -> Iterator[Tuple[str, Any]]:
    """Yield ``(key, element)`` for the elements of the top-level arrays named in ``keys``.

    A top-level value that is not an array is yielded whole as ``(key, value)``. Values
    of other keys are skipped (arrays element by element), so memory stays at one
    element plus one chunk (``chunk_chars``, default :data:`CHUNK_CHARS`) whatever the
    file size. ``progress`` shows mmengine's progress bar, one step per chunk read.
    """
    chunk_chars = chunk_chars or CHUNK_CHARS
    bar = ProgressBar(max(1, math.ceil(os.path.getsize(path) / chunk_chars)),
                      file=sys.stdout) if progress else None
    with open(path, encoding='utf-8') as file:
        try:
            yield from _walk(_Reader(file, chunk_chars, bar), keys)
        finally:
            if bar is not None:
                bar.file.write('\n')


def _walk(reader: _Reader, keys: Collection[str]) -> Iterator[Tuple[str, Any]]:
    """The top-level walk of :func:`iter_coco` over an open reader."""
    reader.take('{')
    if reader.peek() == '}':
        return
    while True:
        key = reader.value()
        reader.take(':')
        if reader.peek() == '[':
            reader.take('[')
            if reader.peek() == ']':
                reader.take(']')
            else:
                while True:
                    element = reader.value()
                    if key in keys:
                        yield key, element
                    if reader.take(',]') == ']':
                        break
        else:
            value = reader.value()
            if key in keys:
                yield key, value
        if reader.take(',}') == '}':
            return


def image_stem(image: Dict[str, Any]) -> str:
    """Stem of a COCO image entry: its ``stem`` (written by the generator) or file name's."""
    stem = image.get('stem')
    return stem if stem else os.path.splitext(os.path.basename(image['file_name']))[0]


def classes_from_categories(categories: Iterable[Dict[str, Any]]) -> Tuple[str, ...]:
    """Class tuple of COCO categories: position ``label_index`` when given, else id order."""
    categories = list(categories)
    if not categories:
        raise ValueError('the COCO file has no categories')
    if all('label_index' in c for c in categories):
        by_index = {int(c['label_index']): c['name'] for c in categories}
        if sorted(by_index) != list(range(len(categories))):
            raise ValueError(f'category label_index values are not 0..{len(categories) - 1}: '
                             f'{sorted(by_index)}')
        return tuple(by_index[i] for i in range(len(categories)))
    return tuple(c['name'] for c in sorted(categories, key=lambda c: c['id']))


def category_label_indices(categories: Iterable[Dict[str, Any]],
                           classes: Tuple[str, ...]) -> Dict[int, int]:
    """Map COCO category ids onto label indices of ``classes`` by name; fail on a stranger."""
    position = {name: i for i, name in enumerate(classes)}
    mapping = {}
    for cat in categories:
        if cat['name'] not in position:
            raise ValueError(f'COCO category {cat["name"]!r} (id {cat["id"]}) is not one of '
                             f'the classes {classes}; pass the classes the labels were made with')
        mapping[int(cat['id'])] = position[cat['name']]
    return mapping


def annotations_for_stems(
        path: str, stems: Collection[str]
) -> Tuple[List[Dict[str, Any]], Dict[str, Dict[str, Any]], Dict[str, List[Dict[str, Any]]]]:
    """Categories, image entries and annotations of the images named by ``stems``.

    Two streaming passes (images and categories, then annotations), so only the
    selected images' annotations are kept. Returns ``(categories, images by stem,
    annotations by stem)``; a stem absent from the file has no entry.
    """
    wanted = set(stems)
    categories: List[Dict[str, Any]] = []
    images: Dict[str, Dict[str, Any]] = {}
    for key, element in iter_coco(path, ('images', 'categories')):
        if key == 'categories':
            categories.append(element)
        elif image_stem(element) in wanted:
            images[image_stem(element)] = element
    by_id = {int(image['id']): stem for stem, image in images.items()}
    annotations: Dict[str, List[Dict[str, Any]]] = {stem: [] for stem in images}
    if by_id:
        for _, ann in iter_coco(path, ('annotations', )):
            stem: Optional[str] = by_id.get(int(ann['image_id']))
            if stem is not None:
                annotations[stem].append(ann)
    return categories, images, annotations
