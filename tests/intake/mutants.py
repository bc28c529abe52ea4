"""Hostile variants of real VCFs for the intake fuzz (``test_fuzz_intake.py``), seeded.

Seeds: the yeast demo VCF, a yeast VCF of every record kind intake meets, and every public
conformance file of ``tests/data/vcf-corpus`` twice, as written (human contigs: the unknown
contig path) and moved onto the yeast genome (contigs I…XVI, positions inside them, REF read
from the genome), so their headers, INFO and sample columns reach the genome checks. Each
mutant is one seed (40 % the two yeast files, 40 % the moved corpus, 20 % the corpus as
written) damaged by one named operator (plus, for a third of them, a second one):
``build_mutants`` returns the same bytes for the same seed number, on every machine.
"""

from __future__ import annotations

import gzip
import io
import random
import struct
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pysam

from engine.io.fasta import Genome
from engine.io.intervals import Interval

DATA = Path(__file__).resolve().parents[1] / "data"
DEMO_VCF = Path(__file__).resolve().parents[2] / "data" / "yeast" / "demo_variants.vcf"
CORPUS = DATA / "vcf-corpus"
UNICODE = ["é", "中", "🧬", "\u200b", "\u202e", "\ufeff", "Ａ", "１", "ß", "ﬅ", "e\u0301", "\u2028"]
BAD_UTF8 = [b"\xc3\x28", b"\xed\xa0\x80", b"\xc0\xaf", b"\xff", b"\xe9", b"\xf4\x90\x80\x80"]
Operator = Callable[[bytes, random.Random, "Context"], bytes]


@dataclass(frozen=True)
class Mutant:
    number: int
    operator: str
    seed: str
    path: Path


@dataclass
class Context:
    """What the operators may read: the genome, for REF bases that match it."""

    genome: Genome

    def bases(self, rng: random.Random, length: int) -> tuple[str, int, str]:
        """``(contig, 1-based POS, REF)``: ``length`` real bases at a random place."""
        lengths = self.genome.contig_lengths
        length = min(length, max(lengths.values()) - 1)  # the mini genome's contigs are 4-6 kb
        chrom = rng.choice([name for name, size in lengths.items() if size > length])
        pos = rng.randint(1, lengths[chrom] - length)
        return chrom, pos, self.genome.fetch(Interval(chrom, pos - 1, pos - 1 + length))


# --- seeds ------------------------------------------------------------------------------------


def seed_files(context: Context) -> dict[str, bytes]:
    """Every seed by name: the demo VCF, the varied yeast VCF, the corpus raw and moved."""
    seeds = {"demo_variants.vcf": DEMO_VCF.read_bytes(), "varied": varied_vcf(context)}
    for path in sorted(CORPUS.rglob("*.vcf*")):
        data = path.read_bytes()
        data = gzip.decompress(data) if path.suffix == ".gz" else data
        name = str(path.relative_to(CORPUS))
        seeds[name] = data
        seeds[f"{name}@yeast"] = moved_to_yeast(data, context)
    return seeds


def varied_vcf(context: Context, count: int = 200) -> bytes:
    """SNVs, indels, multi-allelic, lowercase, chr-prefixed, symbolic and '*' alleles."""
    rng = random.Random(15)
    lines = ["##fileformat=VCFv4.2", "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ts1"]
    for index in range(count):
        chrom, pos, ref = context.bases(rng, rng.randint(1, 5))
        alt = rng.choice(
            [
                ref[0] if len(ref) > 1 else ref + "GA",
                _other_base(ref[0]) + ref[1:],
                f"{_other_base(ref[0])},{ref[0]}TT",
                "<DEL>",
                "*",
                ref.lower()[0] + "c",
            ]
        )
        chrom = rng.choice([chrom, f"chr{chrom}"])
        lines.append(f"{chrom}\t{pos}\tv{index}\t{ref}\t{alt}\t50\tPASS\tDP={index}\tGT\t0/1")
    return "".join(line + "\n" for line in lines).encode()


def moved_to_yeast(data: bytes, context: Context) -> bytes:
    """The file with each record's CHROM, POS and (letters-only) REF moved onto the genome."""
    contigs = list(context.genome.contig_lengths)
    rng = random.Random(len(data))
    lines = data.split(b"\n")
    for index, line in enumerate(lines):
        fields = line.split(b"\t")
        if line.startswith(b"#") or len(fields) < 5 or not fields[1].isdigit():
            continue
        chrom = contigs[sum(fields[0]) % len(contigs)]
        length = len(fields[3]) if fields[3].isalpha() and len(fields[3]) < 5_000 else 1
        pos = int(fields[1]) % (context.genome.contig_lengths[chrom] - length) + 1
        fields[0], fields[1] = chrom.encode(), str(pos).encode()
        if fields[3].isalpha():
            fields[3] = context.genome.fetch(Interval(chrom, pos - 1, pos - 1 + length)).encode()
            fields[3] = fields[3] if rng.random() < 0.9 else fields[3].lower()
        lines[index] = b"\t".join(fields)
    return b"\n".join(lines)


def _other_base(base: str) -> str:
    return "T" if base.upper() != "T" else "C"


# --- operators: bytes ---------------------------------------------------------------------------


def truncate(data: bytes, rng: random.Random, _: Context) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def flip_bytes(data: bytes, rng: random.Random, _: Context) -> bytes:
    mutant = bytearray(data)
    for _ in range(rng.randint(1, 20)):
        mutant[rng.randrange(len(mutant))] = rng.randrange(256)
    return bytes(mutant)


def insert_random_bytes(data: bytes, rng: random.Random, _: Context) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + rng.randbytes(rng.randint(1, 64)) + data[at:]


def vcf_alphabet_edits(data: bytes, rng: random.Random, _: Context) -> bytes:
    """Insert, delete or copy runs of the characters a VCF is made of."""
    alphabet = b"\t\n\r ,;.<>[]*:=-+0123456789ACGTNacgtnRY#"
    mutant = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        at, roll = rng.randrange(len(mutant) + 1), rng.random()
        if roll < 0.4:
            mutant[at:at] = bytes([rng.choice(alphabet)])
        elif roll < 0.7:
            del mutant[at : at + rng.randint(1, 20)]
        else:
            source = rng.randrange(len(mutant) + 1)
            mutant[at:at] = mutant[source : source + rng.randint(1, 200)]
    return bytes(mutant)


def nul_bytes(data: bytes, rng: random.Random, _: Context) -> bytes:
    mutant = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        mutant.insert(rng.randrange(len(mutant) + 1), 0)
    return bytes(mutant)


def line_endings(data: bytes, rng: random.Random, _: Context) -> bytes:
    """CRLF everywhere, on some lines, a stray CR inside lines, or CR only."""
    roll = rng.random()
    if roll < 0.4:
        return data.replace(b"\n", b"\r\n")
    if roll < 0.9:
        lines = data.split(b"\n")
        for index in rng.sample(range(len(lines)), min(len(lines), 5)):
            at = rng.randrange(len(lines[index]) + 1)
            lines[index] = lines[index][:at] + b"\r" + lines[index][at:]
        return b"\n".join(lines)
    return data.replace(b"\n", b"\r")


def invalid_utf8(data: bytes, rng: random.Random, _: Context) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + rng.choice(BAD_UTF8) + data[at:]


def byte_order_marks(data: bytes, rng: random.Random, _: Context) -> bytes:
    if rng.random() < 0.5:
        return b"\xef\xbb\xbf" + data
    return data.decode("utf-8", "replace").encode(rng.choice(["utf-16", "utf-32", "utf-16-be"]))


# --- operators: lines and fields --------------------------------------------------------------


def _records(data: bytes) -> tuple[list[bytes], list[int]]:
    lines = data.split(b"\n")
    return lines, [i for i, line in enumerate(lines) if line and not line.startswith(b"#")]


def _edit_fields(data: bytes, rng: random.Random, edit: Callable[[list[bytes]], None]) -> bytes:
    """Apply ``edit`` to the tab-split fields of up to 5 records."""
    lines, records = _records(data)
    for index in rng.sample(records, min(len(records), rng.randint(1, 5))):
        fields = lines[index].split(b"\t")
        edit(fields)
        lines[index] = b"\t".join(fields)
    return b"\n".join(lines)


def wrong_column_counts(data: bytes, rng: random.Random, _: Context) -> bytes:
    def edit(fields: list[bytes]) -> None:
        roll = rng.random()
        if roll < 0.4 and len(fields) > 1:
            del fields[rng.randrange(len(fields))]
        elif roll < 0.7:
            fields.insert(rng.randrange(len(fields) + 1), b"extra")
        elif roll < 0.85:
            fields.append(b"")
        else:
            fields[:] = [b" ".join(fields)]

    return _edit_fields(data, rng, edit)


def field_values(data: bytes, rng: random.Random, _: Context) -> bytes:
    """Odd CHROM, POS, REF and ALT values: limits, signs, spaces, symbols, IUPAC, empties."""
    values = {
        0: [b"", b" I", b"chrchrI", b"I ", b"i", b"chrM", b"MT", b"*", b"I:1-2", b"<I>"],
        1: [b"0", b"-1", b"2147483647", b"2147483648", b"99999999999", b"0001", b"1e3", b" 5",
            b"\xef\xbc\x95", b"+7", b"", b"."],
        3: [b"", b".", b"N", b"R", b"acgt", b"A C", b"AAAAAAAAAAAAAAAAAAAAAAAAA", b"*", b"<DEL>"],
        4: [b"", b".", b"*", b"<DEL>", b"<*>", b"A,,C", b",", b"A]I:5]", b".A", b"N", b"Y",
            b"A," * 300 + b"C", b"acgtn", b"ACGT" * 50],
    }  # fmt: skip

    def edit(fields: list[bytes]) -> None:
        column = rng.choice([c for c in values if c < len(fields)])
        fields[column] = rng.choice(values[column])

    return _edit_fields(data, rng, edit)


def unicode_fields(data: bytes, rng: random.Random, _: Context) -> bytes:
    """Non-ASCII characters in ID, CHROM, INFO (and sometimes REF/ALT or a header line)."""

    def edit(fields: list[bytes]) -> None:
        column = rng.choice([c for c in (0, 2, 3, 4, 7) if c < len(fields)])
        text = fields[column].decode("utf-8", "replace")
        at = rng.randrange(len(text) + 1)
        fields[column] = (text[:at] + rng.choice(UNICODE) + text[at:]).encode()

    if rng.random() < 0.2:
        return data.replace(b"##fileformat=VCFv4.", "##fileformat=VCFv4.✓".encode(), 1)
    return _edit_fields(data, rng, edit)


def shuffle_lines(data: bytes, rng: random.Random, _: Context) -> bytes:
    """Reorder, duplicate or delete lines (the header's included)."""
    lines = data.split(b"\n")
    roll = rng.random()
    if roll < 0.3:
        rng.shuffle(lines)
    elif roll < 0.6:
        for _ in range(rng.randint(1, 5)):
            lines.insert(rng.randrange(len(lines) + 1), rng.choice(lines))
    else:
        for _ in range(min(len(lines), rng.randint(1, 3))):
            del lines[rng.randrange(len(lines))]
    return b"\n".join(lines)


def header_damage(data: bytes, rng: random.Random, _: Context) -> bytes:
    """The #CHROM line lost, moved, doubled, lowercased or cut short; ##fileformat lost."""
    lines = data.split(b"\n")
    chrom = next((i for i, line in enumerate(lines) if line.startswith(b"#CHROM")), 0)
    roll = rng.random()
    if roll < 0.2:
        del lines[chrom]
    elif roll < 0.4:
        lines.insert(rng.randrange(len(lines) + 1), lines.pop(chrom))
    elif roll < 0.55:
        lines.insert(rng.randrange(chrom, len(lines) + 1), lines[chrom])
    elif roll < 0.7:
        lines[chrom] = lines[chrom].lower()
    elif roll < 0.85:
        lines[chrom] = b"\t".join(lines[chrom].split(b"\t")[: rng.randint(1, 9)])
    else:
        lines = [line for line in lines if not line.startswith(b"##fileformat")]
    return b"\n".join(lines)


def huge_line(data: bytes, rng: random.Random, _: Context) -> bytes:
    """One record with an INFO value just under or over the 1 MiB line cap."""
    lines, records = _records(data)
    if not records:
        return data + b"I\t5\t.\tA\tC\t.\t.\tX=" + b"A" * 2**20 + b"\n"
    index = rng.choice(records)
    size = rng.choice([2**20 - len(lines[index]) - 10, 2**20 + rng.randint(1, 5000), 300_000])
    lines[index] += b";HUGE=" + b"AC" * (size // 2)
    return b"\n".join(lines)


def long_alleles(data: bytes, rng: random.Random, context: Context) -> bytes:
    """Genome-true REF of 10-300 kb (a deletion, an insertion after it, or an MNV), many ALTs."""
    chrom, pos, ref = context.bases(rng, rng.randint(10_000, 300_000))
    alt = rng.choice([ref[0], ref + "A", "G" + ref, ",".join("ACGT" * 2000)])
    if alt.startswith("A,C"):
        ref = ref[0]
    lines, records = _records(data)
    columns = next((len(line.split(b"\t")) for line in lines if line.startswith(b"#CHROM")), 8)
    record = f"{chrom}\t{pos}\tlong\t{ref}\t{alt}\t.\t.\t." + "\t." * max(0, columns - 8)
    lines.insert(rng.choice(records) if records else len(lines), record.encode())
    return b"\n".join(lines)


def many_contigs(data: bytes, rng: random.Random, _: Context) -> bytes:
    """100,000 ``##contig`` lines (over the header cap) or 15,000 (under it)."""
    count = rng.choice([100_000, 15_000])
    contigs = b"".join(b"##contig=<ID=ctg%d,length=%d>\n" % (i, 1000 + i) for i in range(count))
    end = data.find(b"\n") + 1
    return data[:end] + contigs + data[end:]


# --- operators: compression -------------------------------------------------------------------


def lying_gzip(data: bytes, rng: random.Random, _: Context) -> bytes:
    """gzip magic and garbage, cut gzip, gzip of a cut file, bad CRC or size, trailing
    garbage, gzip twice, or concatenated members (a valid gzip)."""
    packed = gzip.compress(data, mtime=0)
    choice = rng.randrange(8)
    if choice == 0:
        return b"\x1f\x8b" + rng.randbytes(rng.randint(0, 500))
    if choice == 1:
        return packed[: rng.randrange(len(packed))]
    if choice == 2:
        return gzip.compress(data[: rng.randrange(len(data) + 1)], mtime=0)
    if choice == 3:
        return packed[:-8] + struct.pack("<I", rng.randrange(2**32)) + packed[-4:]
    if choice == 4:
        return packed[:-4] + struct.pack("<I", rng.randrange(2**32))
    if choice == 5:
        return packed + rng.randbytes(rng.randint(1, 100))
    if choice == 6:
        return gzip.compress(packed, mtime=0)
    middle = rng.randrange(len(data) + 1)
    return gzip.compress(data[:middle], mtime=0) + gzip.compress(data[middle:], mtime=0)


def bad_bgzf(data: bytes, rng: random.Random, _: Context) -> bytes:
    """A BGZF file of small blocks with one block damaged, dropped, doubled, swapped or cut,
    or its EOF block missing."""
    blocks = _bgzf_blocks(data, rng.choice([200, 1000, 5000]))
    index = rng.randrange(len(blocks))
    choice = rng.randrange(6)
    if choice == 0:
        block = bytearray(blocks[index])
        block[rng.randrange(18, max(19, len(block) - 8))] ^= 1 + rng.randrange(255)
        blocks[index] = bytes(block)
    elif choice == 1:
        del blocks[index]
    elif choice == 2:
        blocks.insert(index, blocks[index])
    elif choice == 3:
        other = rng.randrange(len(blocks))
        blocks[index], blocks[other] = blocks[other], blocks[index]
    elif choice == 4:
        blocks[index] = blocks[index][: rng.randrange(len(blocks[index]))]
    else:
        blocks = blocks[:-1]  # the empty EOF block
    return b"".join(blocks)


def _bgzf_blocks(data: bytes, block_bytes: int) -> list[bytes]:
    """BGZF blocks of ``block_bytes`` of text each (pysam writes them), EOF block last."""
    buffer = io.BytesIO()
    for start in range(0, len(data), block_bytes):
        buffer.write(_bgzf_block(data[start : start + block_bytes]))
    buffer.write(_bgzf_block(b""))
    packed, blocks, at = buffer.getvalue(), [], 0
    while at < len(packed):
        size = struct.unpack("<H", packed[at + 16 : at + 18])[0] + 1  # BSIZE: block size - 1
        blocks.append(packed[at : at + size])
        at += size
    return blocks


def _bgzf_block(text: bytes) -> bytes:
    """One BGZF block (SAM spec 4.1): gzip member with the BC extra field."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = compressor.compress(text) + compressor.flush()
    size = 18 + len(body) + 8 - 1
    header = b"\x1f\x8b\x08\x04" + bytes(4) + b"\x00\xff\x06\x00BC\x02\x00"
    trailer = struct.pack("<II", zlib.crc32(text), len(text))
    return header + struct.pack("<H", size) + body + trailer


def bgzip(data: bytes, _: random.Random, __: Context) -> bytes:
    """A valid bgzip file, as ``bgzip`` writes it (htslib, through pysam)."""
    with tempfile.TemporaryDirectory(prefix="gw-fuzz-") as workdir:
        path = Path(workdir) / "bgzip.vcf.gz"
        with pysam.BGZFile(str(path), "wb") as out:
            out.write(data)
        return path.read_bytes()


OPERATORS: dict[str, tuple[Operator, int]] = {  # operator: (function, mutants per 1,000)
    "truncate": (truncate, 70),
    "flip_bytes": (flip_bytes, 80),
    "insert_random_bytes": (insert_random_bytes, 50),
    "vcf_alphabet_edits": (vcf_alphabet_edits, 110),
    "nul_bytes": (nul_bytes, 40),
    "line_endings": (line_endings, 50),
    "invalid_utf8": (invalid_utf8, 40),
    "byte_order_marks": (byte_order_marks, 20),
    "wrong_column_counts": (wrong_column_counts, 70),
    "field_values": (field_values, 110),
    "unicode_fields": (unicode_fields, 70),
    "shuffle_lines": (shuffle_lines, 50),
    "header_damage": (header_damage, 50),
    "huge_line": (huge_line, 10),
    "long_alleles": (long_alleles, 10),
    "many_contigs": (many_contigs, 5),
    "lying_gzip": (lying_gzip, 70),
    "bad_bgzf": (bad_bgzf, 70),
    "bgzip": (bgzip, 15),
}
# cheap operators that may follow the first, for combined damage
SECOND = ["flip_bytes", "vcf_alphabet_edits", "field_values", "line_endings", "shuffle_lines"]


def build_mutants(out_dir: Path, count: int, context: Context) -> list[Mutant]:
    """``count`` mutants written under ``out_dir``; the same files for the same ``count``."""
    seeds = seed_files(context)
    native = ["demo_variants.vcf", "varied"]
    moved = sorted(name for name in seeds if name.endswith("@yeast"))
    raw = sorted(set(seeds) - set(native) - set(moved))
    schedule = [name for name, (_, share) in OPERATORS.items() for _ in range(share)]
    random.Random(8).shuffle(schedule)  # any run of mutants has every operator in its share
    mutants = []
    for number in range(count):
        rng = random.Random(f"intake-fuzz-{number}")
        operator, roll = schedule[number % len(schedule)], rng.random()
        # most on the genome, where records get as far as the REF check and normalisation
        seed = rng.choice(native if roll < 0.4 else moved if roll < 0.8 else raw)
        data = OPERATORS[operator][0](seeds[seed], rng, context)
        if rng.random() < 1 / 3 and operator not in ("lying_gzip", "bad_bgzf", "bgzip"):
            data = OPERATORS[rng.choice(SECOND)][0](data, rng, context)
        path = out_dir / f"{number:05d}.vcf"
        path.write_bytes(data)
        mutants.append(Mutant(number, operator, seed, path))
    return mutants
