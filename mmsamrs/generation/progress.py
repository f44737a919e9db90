"""Progress of a generation run, counted in images and boxes, with rates and time left."""
import sys
import time
from typing import Callable, Optional, TextIO


def format_rate(count: int, seconds: float, singular: str, plural: str) -> str:
    """``'12.3 boxes/s'``, or ``'4.2 s/image'`` when less than one per second."""
    if count <= 0 or seconds <= 0:
        return f'? {plural}/s'
    rate = count / seconds
    return f'{rate:.1f} {plural}/s' if rate >= 1 else f'{1 / rate:.1f} s/{singular}'


def format_duration(seconds: float) -> str:
    """``'H:MM:SS'``."""
    seconds = int(round(seconds))
    return f'{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}'


class GenerationProgress:
    """Images and boxes done out of their totals, their rates, elapsed time and time left.

    On a terminal the line is redrawn in place at every update; otherwise (a log file, a
    pipe) a full line is written at most every ``interval`` seconds, and at :meth:`close`.
    The time left extrapolates the time per image so far.

    Args:
        images: images to process.
        boxes: boxes (prompts) of those images.
        stream: where the line goes (default ``sys.stdout``).
        interval: seconds between lines when ``stream`` is not a terminal.
        clock: time source in seconds (tests pass a fake one).
    """

    def __init__(self, images: int, boxes: int, stream: Optional[TextIO] = None,
                 interval: float = 30.0,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.total_images, self.total_boxes = images, boxes
        self.images = self.boxes = 0
        self.stream = stream or sys.stdout
        self.interactive = bool(getattr(self.stream, 'isatty', lambda: False)())
        self.interval = interval
        self.clock = clock
        self.start = self.last_line = clock()

    def line(self) -> str:
        """The current progress line."""
        elapsed = self.clock() - self.start
        left = ('?' if not self.images else format_duration(
            elapsed * (self.total_images - self.images) / self.images))
        return (f'images {self.images}/{self.total_images} '
                f'({format_rate(self.images, elapsed, "image", "images")}), '
                f'boxes {self.boxes}/{self.total_boxes} '
                f'({format_rate(self.boxes, elapsed, "box", "boxes")}), '
                f'elapsed {format_duration(elapsed)}, left {left}')

    def update(self, images: int = 1, boxes: int = 0) -> None:
        """Count ``images`` more images with ``boxes`` boxes, and show the progress."""
        self.images += images
        self.boxes += boxes
        if self.interactive:
            self.stream.write('\r' + self.line())
            self.stream.flush()
        elif self.clock() - self.last_line >= self.interval:
            self._write_line()

    def close(self) -> None:
        """Show the final counts and end the line."""
        if self.interactive:
            self.stream.write('\r' + self.line() + '\n')
            self.stream.flush()
        else:
            self._write_line()

    def _write_line(self) -> None:
        self.last_line = self.clock()
        self.stream.write(self.line() + '\n')
        self.stream.flush()
