"""SAM's parts on their own: the mask decoder's prompt chunk and precision, and
``torch.compile`` of the image encoder and the mask decoder.

Two measurements behind the defaults of ``SAMGenerator`` (``efficient_decoder``,
``prompt_chunk_size``, ``precision``, ``compile_decoder``), each setting in its own
subprocess (a clean peak RSS):

* ``decoder``: time per prompt and peak memory of the prompt encoder + mask decoder, one
  call per chunk of ``--prompts`` random boxes, for each ``--decoders`` (the package's
  ``MaskDecoder`` and ours' efficient one), ``--chunks`` size and ``--precisions``. SAM's
  decoder copies the image embedding for every prompt of a call, so a call's memory grows
  with its chunk; the time per prompt at a small chunk against a large one bounds what
  batching the prompts of several images into one call could gain.
* ``compile``: CPU seconds per image of the image encoder (batch ``--batch-size``) and per
  prompt of the efficient decoder (the first of ``--chunks`` per call), eager against
  ``torch.compile`` (inductor, the decoder with dynamic shapes), with the
  CPU time of the first compiled call (compilation, including inductor's C++ builds in
  this process) and of a call with another chunk size (recompilation); the number of
  images after which compiling pays for itself follows.

CPU time (``time.process_time``, all threads of the process) is reported besides wall time
because it moves less with the load of a shared machine; run with ``OMP_NUM_THREADS=1`` for
figures per core.

The image encoder's weights are random (the cost does not depend on them); the encoder uses
``SAMGenerator``'s SDPA attention. Usage::

    python benchmarks/sam_components.py decoder --chunks 16 32 64 128 256
    python benchmarks/sam_components.py compile --arch vit_b --chunks 4
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time
from typing import List

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build(arch: str):
    """SAM of ``arch`` (``tiny``: the tests' encoder) in eval mode with SDPA attention."""
    import torch

    from mmsamrs.models.sam import build_sam, use_efficient_attention
    from mmsamrs.testing import TINY_SAM_ARCH
    torch.manual_seed(0)
    sam = build_sam(TINY_SAM_ARCH if arch == 'tiny' else arch).eval()
    use_efficient_attention(sam.image_encoder)
    return sam


def autocast(precision: str):
    """Autocast context of a resolved ``precision`` on the CPU."""
    import torch

    from mmsamrs.models.sam.precision import PRECISIONS
    dtype = PRECISIONS[precision]
    return torch.autocast('cpu', dtype=dtype or torch.bfloat16, enabled=dtype is not None)


def random_boxes(num: int):
    """``num`` boxes (xyxy) of 16-160 px in SAM's 1024 input frame, seed 0."""
    import torch
    gen = torch.Generator().manual_seed(0)
    xy = torch.rand(num, 2, generator=gen) * 860
    size = 16 + torch.rand(num, 2, generator=gen) * 144
    return torch.cat([xy, xy + size], 1)


def decode_all(sam, embedding, boxes, chunk: int, decoder: str = 'segment_anything',
               decode=None) -> None:
    """Every box through the prompt encoder and mask decoder, ``chunk`` per call;
    ``decoder``: ``'segment_anything'`` (the package's ``MaskDecoder.forward``) or
    ``'efficient'`` (``decode``, by default
    :func:`mmsamrs.models.sam.efficient_decoder.decode_single_mask`)."""
    from mmsamrs.models.sam.efficient_decoder import decode_single_mask
    decode = decode or decode_single_mask
    pe = sam.prompt_encoder.get_dense_pe()
    for start in range(0, len(boxes), chunk):
        sparse, dense = sam.prompt_encoder(points=None, boxes=boxes[start:start + chunk],
                                           masks=None)
        if decoder == 'efficient':
            decode(sam.mask_decoder, embedding, pe, sparse, dense[:1])
        else:
            sam.mask_decoder(image_embeddings=embedding, image_pe=pe,
                             sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense,
                             multimask_output=False)


def rss_mib() -> float:
    """Resident memory of this process now (MiB)."""
    with open('/proc/self/status') as f:
        return next(int(line.split()[1]) for line in f if line.startswith('VmRSS:')) / 1024


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (MiB, Linux units)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_decoder(decoder: str, precision: str, chunk: int, prompts: int,
                    repeat: int) -> dict:
    """Seconds per prompt (best of ``repeat`` passes over ``prompts`` boxes) and the peak
    RSS above the model's, of one decoder setting."""
    import torch
    sam = build('tiny')  # the decoder is the same for every SAM size
    embedding = torch.randn(1, 256, 64, 64)
    boxes = random_boxes(prompts)
    base = rss_mib()
    times, cpu_times = [], []
    with torch.no_grad(), autocast(precision):
        decode_all(sam, embedding, boxes[:chunk], chunk, decoder)  # warm-up
        for _ in range(repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            decode_all(sam, embedding, boxes, chunk, decoder)
            times.append(time.perf_counter() - start)
            cpu_times.append(time.process_time() - start_cpu)
    return dict(decoder=decoder, precision=precision, chunk=chunk,
                s_per_prompt=min(times) / prompts, cpu_s_per_prompt=min(cpu_times) / prompts,
                peak_mib_above_model=peak_rss_mib() - base)


def measure_compile(arch: str, precision: str, batch: int, passes: int, chunk: int) -> dict:
    """Eager against compiled image encoder and efficient mask decoder (seconds)."""
    import torch

    from mmsamrs.models.sam.efficient_decoder import decode_single_mask
    sam = build(arch)
    images = torch.randn(batch, 3, 1024, 1024)
    boxes = random_boxes(chunk)
    odd = random_boxes(chunk // 2 + 1)
    embedding = torch.randn(1, 256, 64, 64)

    def encoder_passes(encoder) -> float:
        start = time.process_time()
        for _ in range(passes):
            encoder(images)
        return (time.process_time() - start) / (passes * batch)

    def decoder_calls(decode) -> float:
        start = time.process_time()
        for _ in range(passes):
            decode_all(sam, embedding, boxes, chunk, 'efficient', decode)
        return (time.process_time() - start) / (passes * chunk)

    def timed(fn) -> float:
        start = time.process_time()
        fn()
        return time.process_time() - start

    result = dict(arch=arch, precision=precision, batch=batch, passes=passes, chunk=chunk)
    with torch.no_grad(), autocast(precision):
        sam.image_encoder(images)  # eager warm-up
        decode_all(sam, embedding, boxes, chunk, 'efficient')
        result['encoder_eager_s_per_image'] = encoder_passes(sam.image_encoder)
        result['decoder_eager_s_per_prompt'] = decoder_calls(decode_single_mask)
        sam.image_encoder = torch.compile(sam.image_encoder)
        compiled = torch.compile(decode_single_mask, dynamic=True)
        result['encoder_first_call_s'] = timed(lambda: sam.image_encoder(images))
        result['decoder_first_call_s'] = timed(
            lambda: decode_all(sam, embedding, boxes, chunk, 'efficient', compiled))
        result['decoder_other_chunk_first_call_s'] = timed(
            lambda: decode_all(sam, embedding, odd, len(odd), 'efficient', compiled))
        result['encoder_compiled_s_per_image'] = encoder_passes(sam.image_encoder)
        result['decoder_compiled_s_per_prompt'] = decoder_calls(compiled)
    gain = result['encoder_eager_s_per_image'] - result['encoder_compiled_s_per_image']
    compile_s = result['encoder_first_call_s'] - batch * result['encoder_compiled_s_per_image']
    result['encoder_compile_s'] = compile_s
    result['encoder_break_even_images'] = compile_s / gain if gain > 0 else None
    return result


def run_child(args: List[str]) -> dict:
    """One measurement in a fresh subprocess; its JSON result. Inductor compiles in that
    process (``TORCHINDUCTOR_COMPILE_THREADS=1``), so its CPU time counts the builds."""
    env = dict(os.environ, TORCHINDUCTOR_COMPILE_THREADS='1')
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                          cwd=REPO, env=env)
    if proc.returncode:
        raise SystemExit(proc.stderr[-4000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    """Run the chosen measurement; print a Markdown table and the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('what', choices=('decoder', 'compile'))
    parser.add_argument('--chunks', type=int, nargs='+', default=[16, 32, 64, 128, 256])
    parser.add_argument('--precisions', nargs='+', default=['fp32', 'bf16'],
                        choices=('fp32', 'bf16'))
    parser.add_argument('--decoders', nargs='+', default=['segment_anything', 'efficient'],
                        choices=('segment_anything', 'efficient'),
                        help="decoder: the package's MaskDecoder and/or ours' efficient one")
    parser.add_argument('--prompts', type=int, default=256, help='decoder: boxes per pass')
    parser.add_argument('--repeat', type=int, default=2, help='decoder: passes (best kept)')
    parser.add_argument('--arch', default='vit_b', choices=('tiny', 'vit_b', 'vit_l', 'vit_h'))
    parser.add_argument('--precision', default='auto', help="compile: 'auto' or a precision")
    parser.add_argument('--batch-size', type=int, default=2, help='compile: images per pass')
    parser.add_argument('--passes', type=int, default=2, help='compile: timed passes')
    parser.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    import mmsamrs  # noqa: F401  (compatibility fixes first)
    import torch
    from mmsamrs.models.sam import resolve_precision
    if args.child:
        if args.what == 'decoder':
            out = measure_decoder(args.decoders[0], args.precisions[0], args.chunks[0],
                                  args.prompts, args.repeat)
        else:
            out = measure_compile(args.arch, args.precision, args.batch_size, args.passes,
                                  args.chunks[0])
        print(json.dumps(out))
        return 0
    load = ' '.join(f'{v:.2f}' for v in os.getloadavg())
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads; load average '
          f'before {load}')
    if args.what == 'decoder':
        rows = [run_child(['decoder', '--child', '--decoders', d, '--precisions', p,
                           '--chunks', str(c), '--prompts', str(args.prompts),
                           '--repeat', str(args.repeat)])
                for d in args.decoders for p in args.precisions for c in args.chunks]
        print('| decoder | precision | prompts per call | ms per prompt | CPU ms per prompt | '
              'peak MiB above the model |')
        print('|---|---|---:|---:|---:|---:|')
        for r in rows:
            print(f"| {r['decoder']} | {r['precision']} | {r['chunk']} | "
                  f"{1000 * r['s_per_prompt']:.1f} | "
                  f"{1000 * r['cpu_s_per_prompt']:.1f} | {r['peak_mib_above_model']:.0f} |")
    else:
        precision = resolve_precision(args.precision, torch.device('cpu'))[0]
        rows = [run_child(['compile', '--child', '--arch', args.arch, '--precision', precision,
                           '--batch-size', str(args.batch_size), '--passes', str(args.passes),
                           '--chunks', str(args.chunks[0])])]
        r = rows[0]
        print(f"| SAM {r['arch']}, {r['precision']}, CPU time | eager | compiled | first "
              'compiled call |')
        print('|---|---:|---:|---:|')
        print(f"| image encoder, s per image (batch {r['batch']}) | "
              f"{r['encoder_eager_s_per_image']:.2f} | {r['encoder_compiled_s_per_image']:.2f}"
              f" | {r['encoder_first_call_s']:.1f} s |")
        print(f"| efficient mask decoder, ms per prompt (chunk {r['chunk']}) | "
              f"{1000 * r['decoder_eager_s_per_prompt']:.1f} | "
              f"{1000 * r['decoder_compiled_s_per_prompt']:.1f} | "
              f"{r['decoder_first_call_s']:.1f} s (another chunk size: "
              f"{r['decoder_other_chunk_first_call_s']:.1f} s) |")
        print(f"Encoder compilation {r['encoder_compile_s']:.1f} s; pays for itself after "
              f"{r['encoder_break_even_images'] or 'never'} images.")
    print(f"load average after {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(json.dumps(rows))
    return 0


if __name__ == '__main__':
    sys.exit(main())
