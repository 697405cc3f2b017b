"""Serval's built-in `ocr` pipeline against RapidOCR on the same images (run by loadtest/ocr-vs-rapidocr.sh).

Subcommands, each run from the repository root with the venv of loadtest/peers/rapidocr/requirements.txt:

  render OUT                   the benchmark's images, rendered with Pillow (seeded, deterministic), into
                               OUT/images/ and their ground truth into OUT/index.json
  accuracy OUT URL             every image once through RapidOCR and once through Serval (URL: the pipeline's
                               endpoint, a multipart upload of field `image`); OUT/accuracy.json (every answer
                               and the rates) and OUT/disagreements.md
  rapidocr-bench OUT NAME PROCS SECONDS WARMUP
                               RapidOCR over the images in a loop, in PROCS processes (1: ONNX Runtime's default
                               threads, all cores; more: one intra-op thread each); OUT/throughput/NAME.json
  serval-bench OUT NAME URL CONCURRENCY SECONDS WARMUP
                               CONCURRENCY threads, each uploading the images in a loop over one kept-alive
                               HTTP connection; OUT/throughput/NAME.json
  cpu-sampler OUT PGID         the CPU used by this run (process group PGID) and by other processes, every 2 s,
                               into OUT/cpu.jsonl, until its parent exits
  versions                     Python and the packages' versions, and RapidOCR's configuration
  summary OUT                  OUT/summary.md from the files above

Both systems get the images as encoded PNG bytes held in memory, so both decode every image themselves, and both
are timed from the bytes to the text. A measurement is whole passes over the images (see _measure).
"""

import http.client
import json
import logging
import multiprocessing
import os
import random
import statistics
import sys
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

MODELS = Path("models")
FONTS = {
    "sans": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "serif": "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "mono": "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "wqy": "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
}
FONT_PACKAGES = {"sans": "fonts-dejavu-core", "serif": "fonts-dejavu-core", "mono": "fonts-dejavu-core",
                 "wqy": "fonts-wqy-microhei"}

# RapidOCR set up to run what Serval's models/ocr/pipeline.yaml runs: the same three model files and dictionary,
# and PaddleOCR's own defaults where RapidOCR's differ (RapidOCR's det defaults, limit_side_len 736 type min,
# mean/std 0.5, unclip 1.6, box_thresh 0.5, dilation on, read these images with 1.85% CER without spaces, against
# 0.12% with these settings; the last two groups below changed no answer here), stage by stage:
RAPIDOCR_CONFIG = {
    "det_model_path": str(MODELS / "ocr_det/1/model.onnx"),
    "cls_model_path": str(MODELS / "ocr_orientation/1/model.onnx"),
    "rec_model_path": str(MODELS / "ocr_rec/1/model.onnx"),
    "rec_keys_path": str(MODELS / "ocr/ppocr_keys_v1.txt"),
    # detection: longer side at most 960, multiples of 32, ImageNet mean/std (pipeline.yaml's resize, normalize)
    "det_limit_side_len": 960,
    "det_limit_type": "max",
    "det_mean": [0.485, 0.456, 0.406],
    "det_std": [0.229, 0.224, 0.225],
    # DB post-processing: threshold 0.3 (RapidOCR's default too), box score 0.6, unclip 1.5, no dilation
    "det_thresh": 0.3,
    "det_box_thresh": 0.6,
    "det_unclip_ratio": 1.5,
    "det_donot_use_dilation": True,
    # orientation: every line classified, turned when p(180) > 0.9 (pipeline.yaml's orient threshold)
    "use_cls": True,
    "cls_thresh": 0.9,
    # recognition: every line kept whatever its score, as Serval keeps them (RapidOCR's default drops lines
    # scoring under 0.5, as PaddleOCR's drop_score)
    "text_score": 0.0,
    # RapidOCR's own pre-detection padding of short or wide images (min_height 30, width_height_ratio 8), which
    # neither PaddleOCR nor Serval does: off
    "min_height": 0,
    "width_height_ratio": -1,
}


# ---- rendering ----------------------------------------------------------------------------------------------
# Texts not used by server/src/test/java/io/serval/server/OcrServiceTest.java, so this is also a held-out check.
LATIN = [
    "Quarterly report draft", "Please sign and return", "Warehouse inventory check", "Monday morning standup",
    "Green tea and lemon cake", "Library opens at nine", "River crossing ahead", "Seasonal sale starts soon",
    "Keep the receipt safe", "Parcel delivered today", "Welcome to the harbour", "Fresh bread every day",
    "Mountain trail closed", "Silver maple street", "Customer service desk", "Weekly budget review",
    "Replace the filter monthly", "Quiet study area", "Bicycle parking only", "Staff entrance at the back",
]
DIGITS = [
    "Room 204", "Ticket 58213", "Phone 555 0142", "Code 7730 1984", "Gate B17", "Flight 2468 boarding",
    "Batch 00317", "Total 1250", "Order 4096 item 12", "From 1999 to 2025", "Serial 31415926", "Zip 90210",
    "8675309", "2718281828", "404 503 200", "Platform 9 at 1745",
]
CHINESE = [
    "欢迎光临本店", "请勿吸烟", "会议室在三楼", "明天下午开会", "火车站出口", "图书馆开放时间", "请保持安静",
    "新年快乐", "春眠不觉晓", "人工智能应用", "营业时间", "东方明珠", "学习使我快乐", "注意安全",
    "出租车停靠站", "小心地滑", "禁止停车", "感谢您的耐心等待",
]
MIXED = [  # Chinese with Latin letters or digits: WenQuanYi Micro Hei, which has both
    "航班 CA1831 已登机", "房间 302 号", "订单编号 58213", "上午 9 点开门", "版本 3 发布", "温度 25 度",
    "座位 12A 靠窗", "共计 760 元", "第 4 章 总结", "密码 8 位以上",
]


def _font(name, size):
    from PIL import ImageFont

    path = FONTS[name]
    if not os.path.exists(path):
        sys.exit(f"font {path} is missing (Debian package {FONT_PACKAGES[name]})")
    return ImageFont.truetype(path, size)


def _pick_line(rng, used, kind=None):
    """(text, font name) of a random kind (Latin words, digits, Chinese, or mixed), a text not in used."""
    kind = kind or rng.choice(["latin", "latin", "digits", "chinese", "chinese", "mixed"])
    texts, fonts = {"latin": (LATIN, ["sans", "serif", "mono", "wqy"]),
                    "digits": (DIGITS, ["sans", "serif", "mono", "wqy"]),
                    "chinese": (CHINESE, ["wqy"]), "mixed": (MIXED, ["wqy"])}[kind]
    text = rng.choice([t for t in texts if t not in used])
    used.add(text)
    return text, rng.choice(fonts)


def _draw_lines(lines, width=None, height=None, margin=None, rng=None):
    """Black lines on white, each below the one before with a gap of half its size, a line marked turned drawn
    turned by 180 degrees in place. Without width/height the image is cut to the text plus the margin (default:
    the largest size all round); with them, the gaps grow to spread the lines over the page."""
    from PIL import Image, ImageDraw

    fonts = [_font(line["font"], line["size"]) for line in lines]
    boxes = [f.getbbox(line["text"]) for f, line in zip(fonts, lines)]
    margin = max(line["size"] for line in lines) if margin is None else margin
    text_w = max(b[2] for b in boxes)
    heights = [max(b[3], int(line["size"] * 1.25)) for b, line in zip(boxes, lines)]
    gaps = [line["size"] // 2 for line in lines]
    text_h = sum(heights) + sum(gaps[:-1])
    width = width or text_w + 2 * margin
    if height and len(lines) > 1:  # a page of a given size: the lines spread over it
        spare = max(0, height - 2 * margin - text_h) // (len(lines) - 1)
        gaps = [g + spare for g in gaps]
    height = height or text_h + 2 * margin
    image = Image.new("RGB", (width, height), "white")
    y = margin
    for font, line, h, gap in zip(fonts, lines, heights, gaps):
        line_w = font.getbbox(line["text"])[2]
        x = margin if rng is None else rng.randint(margin, max(margin, width - margin - line_w))
        strip = Image.new("RGB", (line_w + 4, h), "white")
        ImageDraw.Draw(strip).text((0, 0), line["text"], font=font, fill="black")
        if line["turned"]:
            strip = strip.transpose(Image.Transpose.ROTATE_180)
        image.paste(strip, (x, y))
        y += h + gap
    return image


def render(out):
    out = Path(out)
    (out / "images").mkdir(parents=True, exist_ok=True)
    rng = random.Random(20261201)
    samples = []

    def line(kind=None, size=None, turned=False, used=None):
        text, font = _pick_line(rng, set() if used is None else used, kind)
        return {"text": text, "font": font, "size": size or rng.randint(20, 40), "turned": turned}

    # 16 single lines, cut with a margin of their size; 4 of them upside down
    kinds = ["latin", "latin", "latin", "latin", "digits", "digits", "digits", "chinese", "chinese", "chinese",
             "chinese", "mixed", "mixed", "latin", "digits", "chinese"]
    used = set()  # no text twice among the single lines, nor twice in one page
    for i, kind in enumerate(kinds):
        samples.append(("line-%02d" % i, [line(kind, turned=i >= 12, used=used)], None))
    # 16 small pages of 3-6 lines; in every third one, one line upside down
    for i in range(16):
        used = set()
        lines = [line(used=used) for _ in range(rng.randint(3, 6))]
        if i % 3 == 2:
            lines[rng.randrange(len(lines))]["turned"] = True
        samples.append(("page-%02d" % i, lines, None))
    # 8 pages 800x600 of 8-10 lines at 20-28 px, each line placed at a random x; every other one with a line
    # upside down
    for i in range(8):
        while True:
            used = set()
            lines = [line(size=rng.randint(20, 28), used=used) for _ in range(rng.randint(8, 10))]
            heights = sum(int(l["size"] * 1.25) + l["size"] // 2 for l in lines)
            if heights <= 600 - 2 * 40:
                break
        if i % 2 == 1:
            lines[rng.randrange(len(lines))]["turned"] = True
        samples.append(("big-%02d" % i, lines, (800, 600)))

    index = []
    for name, lines, size in samples:
        if size:
            image = _draw_lines(lines, size[0], size[1], margin=40, rng=rng)
        else:
            image = _draw_lines(lines)
        file = f"images/{name}.png"
        image.save(out / file, optimize=False)
        index.append({"name": name, "file": file, "width": image.width, "height": image.height,
                      "lines": [l["text"] for l in lines], "fonts": [l["font"] for l in lines],
                      "sizes": [l["size"] for l in lines], "turned": [l["turned"] for l in lines]})
    (out / "index.json").write_text(json.dumps(index, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    lines = sum(len(s["lines"]) for s in index)
    turned = sum(sum(s["turned"]) for s in index)
    print(f"rendered {len(index)} images, {lines} lines ({turned} upside down) into {out}/images")


def load_images(out):
    index = json.loads((Path(out) / "index.json").read_text(encoding="utf-8"))
    for sample in index:
        sample["bytes"] = (Path(out) / sample["file"]).read_bytes()
    return index


# ---- the two systems ----------------------------------------------------------------------------------------
def rapidocr_engine(threads=None):
    logging.disable(logging.WARNING)
    from rapidocr_onnxruntime import RapidOCR

    config = dict(RAPIDOCR_CONFIG)
    if threads:
        config["intra_op_num_threads"] = threads
    return RapidOCR(**config)


def rapidocr_read(engine, data):
    result, _ = engine(data)
    return [r[1] for r in (result or [])]


class Serval:
    """One kept-alive HTTP connection to the pipeline's endpoint; multipart uploads of field `image`."""

    def __init__(self, url):
        parts = urllib.parse.urlsplit(url)
        self.host, self.port, self.path = parts.hostname, parts.port or 80, parts.path
        self.boundary = uuid.uuid4().hex
        self.connection = None

    def body(self, data, filename="image.png"):
        head = (f"--{self.boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{filename}\"\r\n"
                "Content-Type: image/png\r\n\r\n").encode()
        return head + data + f"\r\n--{self.boundary}--\r\n".encode()

    def post(self, body):
        headers = {"Content-Type": f"multipart/form-data; boundary={self.boundary}"}
        for attempt in (0, 1):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
            try:
                self.connection.request("POST", self.path, body=body, headers=headers)
                response = self.connection.getresponse()
                payload = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()
                self.connection = None
                if attempt:
                    raise
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {payload[:300]!r}")
        answer = json.loads(payload)
        keys = ("text", "boxes", "scores", "rotated")
        if answer.get("text") in (None, []):
            return {key: [] for key in keys}
        if not isinstance(answer["text"], list):  # one line: bare values
            return {key: [answer.get(key)] for key in keys}
        return {key: answer.get(key, []) for key in keys}

    def read(self, data):
        return self.post(self.body(data))


# ---- accuracy -----------------------------------------------------------------------------------------------
def levenshtein(a, b):
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j - 1] + (ca != cb), previous[j] + 1, current[j - 1] + 1))
        previous = current
    return previous[-1]


def error_counts(reference_lines, lines, spaces=True):
    """(edits, characters): Levenshtein over code points of the lines joined by newlines; the reference's
    newlines are not counted as characters (an edit of a newline is)."""
    ref, hyp = "\n".join(reference_lines), "\n".join(lines)
    if not spaces:
        ref, hyp = ref.replace(" ", ""), hyp.replace(" ", "")
    return levenshtein(ref, hyp), len(ref) - ref.count("\n")


def rates(pairs):
    """pairs: [(reference lines, lines)] -> the rates over all of them."""
    e = c = es = cs = 0
    for ref, got in pairs:
        d, n = error_counts(ref, got)
        e, c = e + d, c + n
        d, n = error_counts(ref, got, spaces=False)
        es, cs = es + d, cs + n
    same = sum(ref == got for ref, got in pairs)
    same_nospace = sum([l.replace(" ", "") for l in ref] == [l.replace(" ", "") for l in got] for ref, got in pairs)
    return {"images": len(pairs), "identical": same, "identical_ignoring_spaces": same_nospace,
            "cer": e / max(c, 1), "cer_no_spaces": es / max(cs, 1), "edits": e, "characters": c,
            "edits_no_spaces": es, "characters_no_spaces": cs}


def accuracy(out, url):
    index = load_images(out)
    engine = rapidocr_engine()
    serval = Serval(url)
    results = []
    for sample in index:
        rapid = rapidocr_read(engine, sample["bytes"])
        answer = serval.read(sample["bytes"])
        results.append({"name": sample["name"], "truth": sample["lines"], "turned": sample["turned"],
                        "rapidocr": rapid, "serval": answer["text"], "serval_scores": answer["scores"],
                        "serval_rotated": answer["rotated"]})
    groups = {"all": results}
    for prefix, label in (("line-", "single lines"), ("page-", "pages of 3-6 lines"), ("big-", "pages 800x600")):
        groups[label] = [r for r in results if r["name"].startswith(prefix)]
    groups["with a line upside down"] = [r for r in results if any(r["turned"])]
    summary = {}
    for label, rows in groups.items():
        summary[label] = {
            "serval": rates([(r["truth"], r["serval"]) for r in rows]),
            "rapidocr": rates([(r["truth"], r["rapidocr"]) for r in rows]),
            "serval vs rapidocr": rates([(r["rapidocr"], r["serval"]) for r in rows]),
        }
    (Path(out) / "accuracy.json").write_text(
        json.dumps({"rapidocr_config": RAPIDOCR_CONFIG, "rates": summary, "images": results}, ensure_ascii=False,
                   indent=1) + "\n", encoding="utf-8")
    with open(Path(out) / "disagreements.md", "w", encoding="utf-8") as f:
        f.write("# Disagreements\n\nImages where Serval's and RapidOCR's line lists differ (text exactly, spaces"
                " included), then each system's misreads against the ground truth.\n")
        for title, test in (
                ("Serval and RapidOCR differ", lambda r: r["serval"] != r["rapidocr"]),
                ("Serval differs from the ground truth", lambda r: r["serval"] != r["truth"]),
                ("RapidOCR differs from the ground truth", lambda r: r["rapidocr"] != r["truth"])):
            rows = [r for r in results if test(r)]
            f.write(f"\n## {title}: {len(rows)} of {len(results)} images\n\n")
            for r in rows:
                f.write(f"- {r['name']}" + (" (a line upside down)" if any(r["turned"]) else "") + "\n")
                f.write(f"  - truth:    {json.dumps(r['truth'], ensure_ascii=False)}\n")
                f.write(f"  - serval:   {json.dumps(r['serval'], ensure_ascii=False)}\n")
                f.write(f"  - rapidocr: {json.dumps(r['rapidocr'], ensure_ascii=False)}\n")
    a = summary["all"]
    print("accuracy: serval CER %.2f%% (%.2f%% without spaces), rapidocr %.2f%% (%.2f%%); identical line lists"
          " %d of %d images" % (100 * a["serval"]["cer"], 100 * a["serval"]["cer_no_spaces"],
                                100 * a["rapidocr"]["cer"], 100 * a["rapidocr"]["cer_no_spaces"],
                                a["serval vs rapidocr"]["identical"], len(results)))


# ---- throughput ---------------------------------------------------------------------------------------------
# A measurement is whole passes over the images: the workers take the next image from one shared counter (so
# every image of a pass is read once, by whichever worker is free), and once SECONDS have passed no new pass is
# begun; the pass under way is finished. images/s = images read / (last finish - first start). Before it, each
# worker reads the images in a loop for WARMUP seconds (not counted), then all wait for each other.
class _Box:
    def __init__(self, value):
        self.value = value


def _percentile(values, p):
    """Nearest rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, -(-len(ordered) * p // 100) - 1))]


def _measure(read, items, worker, workers, warmup, seconds, barrier, lock, counter, limit, results):
    """One worker: warm-up, then whole passes from the shared counter; puts (start, end, latencies) in results."""
    n = len(items)
    i = worker * n // workers
    warmup_end = time.monotonic() + warmup
    while time.monotonic() < warmup_end:
        read(items[i % n])
        i += 1
    barrier.wait()
    start = end = time.monotonic()
    latencies = []
    while True:
        with lock:
            k = counter.value
            if 0 <= limit.value <= k:
                break
            if k % n == 0 and k > 0 and time.monotonic() - start >= seconds:
                limit.value = k
                break
            counter.value = k + 1
        t0 = time.monotonic()
        read(items[k % n])
        end = time.monotonic()
        latencies.append(end - t0)
    results.put((start, end, latencies))


def _rapid_worker(out, worker, workers, warmup, seconds, barrier, lock, counter, limit, results):
    index = load_images(out)
    engine = rapidocr_engine(threads=1 if workers > 1 else None)
    _measure(lambda data: rapidocr_read(engine, data), [s["bytes"] for s in index], worker, workers, warmup,
             seconds, barrier, lock, counter, limit, results)


def _report(out, name, system, workers, seconds, warmup, parts, images, extra=None):
    latencies = [x for _, _, part in parts for x in part]
    start, end = min(p[0] for p in parts), max(p[1] for p in parts)
    wall = time.time() - time.monotonic()  # monotonic -> wall clock, to line up with cpu.jsonl
    result = {"name": name, "system": system, "workers": workers, "seconds": seconds, "warmup": warmup,
              "wall_start": wall + start, "wall_end": wall + end,
              "passes": len(latencies) / images, "images": len(latencies), "elapsed_s": end - start,
              "images_per_s": len(latencies) / (end - start),
              "p50_ms": 1000 * _percentile(latencies, 50), "p99_ms": 1000 * _percentile(latencies, 99),
              "mean_ms": 1000 * statistics.fmean(latencies)}
    result.update(extra or {})
    path = Path(out) / "throughput"
    path.mkdir(exist_ok=True)
    (path / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    print("%s: %.2f images/s, p50 %.0f ms, p99 %.0f ms (%d images, %d passes, in %.1f s)" % (
        name, result["images_per_s"], result["p50_ms"], result["p99_ms"], result["images"], result["passes"],
        result["elapsed_s"]))


def rapidocr_bench(out, name, procs, seconds, warmup):
    """RapidOCR in PROCS processes: 1 with ONNX Runtime's default threads (all cores), more with one each."""
    procs, seconds, warmup = int(procs), float(seconds), float(warmup)
    ctx = multiprocessing.get_context("spawn")
    shared = (ctx.Barrier(procs), ctx.Lock(), ctx.Value("q", 0, lock=False), ctx.Value("q", -1, lock=False),
              ctx.Queue())
    workers = [ctx.Process(target=_rapid_worker, args=(out, w, procs, warmup, seconds) + shared)
               for w in range(procs)]
    for w in workers:
        w.start()
    parts = [shared[-1].get() for _ in workers]
    for w in workers:
        w.join()
    _report(out, name, "rapidocr", procs, seconds, warmup, parts, len(load_images(out)),
            {"threads_per_process": 1 if procs > 1 else "onnxruntime default (all cores)"})


def serval_bench(out, name, url, concurrency, seconds, warmup):
    """CONCURRENCY threads, each with its own kept-alive connection."""
    import queue

    concurrency, seconds, warmup = int(concurrency), float(seconds), float(warmup)
    index = load_images(out)
    clients = [Serval(url) for _ in range(concurrency)]
    shared = (threading.Barrier(concurrency), threading.Lock(), _Box(0), _Box(-1), queue.Queue())
    errors = []

    def work(w):
        try:
            _measure(clients[w].post, [clients[w].body(s["bytes"]) for s in index], w, concurrency, warmup,
                     seconds, *shared)
        except Exception as e:  # reported, and the measurement fails
            errors.append(repr(e))
            shared[0].abort()

    threads = [threading.Thread(target=work, args=(w,)) for w in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        sys.exit(f"{name}: {errors[0]}")
    _report(out, name, "serval", concurrency, seconds, warmup, [shared[-1].get() for _ in threads], len(index))


# ---- what else runs -----------------------------------------------------------------------------------------
def cpu_sampler(out, pgid, interval="2"):
    """Every INTERVAL seconds, the CPU every process used since the last sample (in % of one core, from
    /proc/PID/stat), summed for this run's processes (process group PGID: the script, the server, the Python
    workers) and for all others, with the busiest others; one JSON line per sample in OUT/cpu.jsonl. Stops when
    its parent has gone."""
    pgid, interval, ticks = int(pgid), float(interval), os.sysconf("SC_CLK_TCK")
    parent = os.getppid()

    def snapshot():
        procs = {}
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                stat = open(f"/proc/{pid}/stat").read()
            except OSError:
                continue
            comm, fields = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
            procs[int(pid)] = (comm, int(fields[2]), int(fields[11]) + int(fields[12]))
        return procs

    previous, before = snapshot(), time.monotonic()
    with open(Path(out) / "cpu.jsonl", "a") as f:
        while os.getppid() == parent:
            time.sleep(interval)
            current, now = snapshot(), time.monotonic()
            ours = others = 0.0
            busiest = []
            for pid, (comm, group, total) in current.items():
                if pid not in previous:
                    continue
                pct = 100 * (total - previous[pid][2]) / ticks / (now - before)
                if group == pgid:
                    ours += pct
                else:
                    others += pct
                    if pct >= 10:
                        busiest.append([comm, pid, round(pct)])
            f.write(json.dumps({"t": round(time.time(), 2), "ours": round(ours), "others": round(others),
                                "busiest_others": sorted(busiest, key=lambda b: -b[2])[:3]}) + "\n")
            f.flush()
            previous, before = current, now


def others_cpu(out, start, end):
    """The mean CPU of other processes (% of one core) over the samples within [start, end], and the busiest."""
    path = Path(out) / "cpu.jsonl"
    if not path.exists():
        return None, []
    samples = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    samples = [x for x in samples if start <= x["t"] <= end + 2]
    if not samples:
        return None, []
    names = sorted({b[0] for x in samples for b in x["busiest_others"]})
    return statistics.fmean(x["others"] for x in samples), names


# ---- versions and summary -----------------------------------------------------------------------------------
def versions():
    from importlib import metadata

    print("python", sys.version.split()[0])
    print("packages:", " ".join(f"{p}=={metadata.version(p)}" for p in (
        "rapidocr-onnxruntime", "onnxruntime", "opencv-python", "numpy", "pillow", "shapely", "pyclipper")))
    print("rapidocr configuration:", json.dumps(RAPIDOCR_CONFIG))


def summary(out):
    out = Path(out)
    acc = json.loads((out / "accuracy.json").read_text(encoding="utf-8"))
    lines = ["# Serval `ocr` vs RapidOCR", ""]
    n = len(acc["images"])
    nlines = sum(len(r["truth"]) for r in acc["images"])
    lines += [f"Accuracy: {n} rendered images ({nlines} lines; see index.json), each read once by each system. CER:"
              " Levenshtein over code points of the lines joined by newlines, over the reference's characters"
              " (newlines not counted). Identical: the same list of lines, exactly.", "",
              "| images | system | reference | identical | identical ignoring spaces | CER | CER without spaces |",
              "|---|---|---|---|---|---|---|"]
    for group, by_system in acc["rates"].items():
        for system, r in by_system.items():
            name, ref = ("serval", "rapidocr") if system == "serval vs rapidocr" else (system, "ground truth")
            lines.append(f"| {group} ({r['images']}) | {name} | {ref} | {r['identical']} | "
                         f"{r['identical_ignoring_spaces']} | {100 * r['cer']:.2f}% ({r['edits']}/{r['characters']})"
                         f" | {100 * r['cer_no_spaces']:.2f}% ({r['edits_no_spaces']}/{r['characters_no_spaces']}) |")
    runs = [json.loads(p.read_text()) for p in sorted((out / "throughput").glob("*.json"))]
    if runs:
        lines += ["", "Throughput: whole passes over the images (at least the measurement's seconds, then the pass"
                  " under way finished), images/s = images / elapsed; latency per image. RapidOCR: processes of one"
                  " engine each (1 process: ONNX Runtime's default threads; 2: one thread each). Serval: concurrent"
                  " HTTP uploads, one kept-alive connection each.", "",
                  "| system | workers | round | images/s | p50 ms | p99 ms | images | seconds | other processes' CPU |",
                  "|---|---|---|---|---|---|---|---|---|"]
        order = {"rapidocr": 0, "serval": 1}
        runs.sort(key=lambda r: (order.get(r["system"], 2), r["workers"], r["name"]))
        busy_runs = []
        for r in runs:
            cpu, names = others_cpu(out, r["wall_start"], r["wall_end"])
            busy = "n/a" if cpu is None else f"{cpu:.0f}%" + (f" ({', '.join(names)})" if names else "")
            if cpu is not None and cpu >= 10:
                busy_runs.append(r["name"])
            what = ("process" if r["system"] == "rapidocr" else "connection") + ("es" if r["system"] == "rapidocr"
                                                                                 else "s") * (r["workers"] > 1)
            lines.append(f"| {r['system']} | {r['workers']} {what} | {r['name'].rsplit('-r', 1)[-1]} | "
                         f"{r['images_per_s']:.2f} | {r['p50_ms']:.0f} | {r['p99_ms']:.0f} | {r['images']} | "
                         f"{r['elapsed_s']:.1f} | {busy} |")
        lines += ["", "Other processes' CPU: the mean CPU (% of one core) of processes outside this run during the"
                  " measurement, from cpu.jsonl (with the names of those over 10%)."]
        if busy_runs:
            lines += ["", f"**The machine was busy**: other processes used 10% of a core or more during "
                      f"{', '.join(busy_runs)}; those numbers are not comparable."]
        best = {}
        for r in runs:
            key = (r["system"], r["workers"])
            best.setdefault(key, []).append(r["images_per_s"])
        medians = {k: statistics.median(v) for k, v in best.items()}
        top = {s: max((v, k[1]) for k, v in medians.items() if k[0] == s) for s in ("serval", "rapidocr")
               if any(k[0] == s for k in medians)}
        if len(top) == 2:
            lines += ["", "Best median over rounds: serval %.2f images/s (%d connections), rapidocr %.2f images/s"
                      " (%d processes): serval/rapidocr = %.2f" % (top["serval"][0], top["serval"][1],
                                                                  top["rapidocr"][0], top["rapidocr"][1],
                                                                  top["serval"][0] / top["rapidocr"][0])]
    lines += ["", "RapidOCR configuration (loadtest/peers/rapidocr/ocr_compare.py, RAPIDOCR_CONFIG): `"
              + json.dumps(acc["rapidocr_config"]) + "`"]
    if (out / "machine.txt").exists():
        lines += ["", "```", (out / "machine.txt").read_text(encoding="utf-8").rstrip("\n"), "```"]
    (out / "summary.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    commands = {"render": render, "accuracy": accuracy, "rapidocr-bench": rapidocr_bench,
                "serval-bench": serval_bench, "cpu-sampler": cpu_sampler, "versions": versions,
                "summary": summary}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](*sys.argv[2:])
