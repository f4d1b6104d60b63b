"""The buyer corpus (dialogs/corpus/): format, label counts, the frozen split, and the
misreadings of issue 13 read right by the buyer rules."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bot.corpus import BuyerLine, CorpusError, is_heldout, main, read_jsonl, split_rows, write_jsonl
from bot.engine import Engine
from bot.labels import bundled

INTENTS, CAUSES, EMOTIONS = bundled().intents, bundled().causes, bundled().emotions

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "dialogs" / "corpus"
TRAIN = CORPUS / "train" / "buyer.jsonl"
HELDOUT = CORPUS / "heldout" / "buyer.jsonl"


@pytest.fixture(scope="module")
def halves() -> tuple[list[BuyerLine], list[BuyerLine]]:
    return read_jsonl(TRAIN, BuyerLine), read_jsonl(HELDOUT, BuyerLine)


def test_every_label_has_enough_examples(halves: tuple[list[BuyerLine], list[BuyerLine]]) -> None:
    rows = halves[0] + halves[1]
    assert len(rows) >= 3000
    for family, labels in (("intent", INTENTS), ("cause", (*CAUSES, None)), ("emotion", EMOTIONS)):
        counts = Counter(getattr(r, family) for r in rows)
        thin = {label: counts[label] for label in labels if counts[label] < 80}
        assert not thin, f"{family} labels under 80 examples: {thin}"
    # both halves can measure every intent
    for half in halves:
        assert set(INTENTS) <= {r.intent for r in half}


def test_split_is_the_frozen_hash(halves: tuple[list[BuyerLine], list[BuyerLine]]) -> None:
    train, heldout = halves
    assert all(not is_heldout(r.text) for r in train)
    assert all(is_heldout(r.text) for r in heldout)
    texts = [r.text for r in train + heldout]
    assert len(texts) == len(set(texts)), "a text appears twice"
    assert len(heldout) / len(texts) >= 0.20


def test_is_heldout_is_pinned() -> None:
    # The seed and the rule are frozen: these answers must never change.
    texts = ("嗯", "好的", "退款吧", "快递太慢了", "给我转两百，我就把差评删了", "在忙，晚点说")
    assert [is_heldout(t) for t in texts] == [False, True, False, False, True, False]
    share = sum(is_heldout(f"第{i}行") for i in range(4000)) / 4000
    assert 0.22 < share < 0.28


def test_no_near_duplicates_across_the_split(engine: Engine,
                                             halves: tuple[list[BuyerLine], list[BuyerLine]]) -> None:
    def key(text: str) -> str:
        k = re.sub(r"[^\w]+", "", engine.understand.normalize(text).text)
        return re.sub(r"[哈呢啦嘛亲呀啊吧哦滴]+$", "", k) or k or text

    train_keys = {key(r.text) for r in halves[0]}
    same = [r.text for r in halves[1] if key(r.text) in train_keys]
    assert not same, f"held-out lines that a training line differs from only in form: {same}"


def test_multi_intent_lines(halves: tuple[list[BuyerLine], list[BuyerLine]]) -> None:
    multi = [r for r in halves[0] + halves[1] if r.intents]
    assert len(multi) >= 150
    for r in multi:
        assert r.intent in r.intents and len(r.intents) >= 2
    line = next(r for r in multi if r.text == "嗯，那箱根本没收到")
    assert (line.intents, line.intent, line.cause) == (["affirm", "complain"], "complain", "logistics")


def test_writing_style_is_varied(halves: tuple[list[BuyerLine], list[BuyerLine]]) -> None:
    import opencc

    to_simple = opencc.OpenCC("t2s").convert
    texts = [r.text for r in halves[0] + halves[1]]
    traditional = sum(to_simple(t) != t for t in texts) / len(texts)
    assert 0.08 <= traditional <= 0.2
    assert sum("/:" in t or re.search(r"\[[\u4e00-\u9fff]{1,4}\]", t) is not None for t in texts) >= 30
    assert sum(re.search(r"(?<![a-z])(hp|cp|zp|tk|kf|hb|fx)(?![a-z])", t) is not None for t in texts) >= 15
    assert sum(len(t) >= 60 for t in texts) >= 50


def test_a_bad_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "buyer.jsonl"
    good = json.dumps({"text": "嗯", "intent": "affirm", "cause": None, "emotion": "calm"},
                      ensure_ascii=False)
    bad = json.dumps({"text": "退款", "intent": "refund", "cause": None, "emotion": "calm"},
                     ensure_ascii=False)
    path.write_text(good + "\n\n" + bad + "\n", encoding="utf-8")
    with pytest.raises(CorpusError) as exc:
        read_jsonl(path, BuyerLine)
    message = str(exc.value)
    assert str(path) in message and "第 3 行" in message and "refund" in message and "intent" in message
    path.write_text('{"text": "嗯", "intent": "affirm"\n', encoding="utf-8")
    with pytest.raises(CorpusError, match="第 1 行不是合法的 JSON"):
        read_jsonl(path, BuyerLine)
    path.write_text(json.dumps({"text": "嗯，退吧", "intent": "want_return", "cause": None,
                                "emotion": "calm", "intents": ["affirm", "want_refund"]}) + "\n",
                    encoding="utf-8")
    with pytest.raises(CorpusError, match="主意图 want_return 不在 intents 列表中"):
        read_jsonl(path, BuyerLine)
    with pytest.raises(CorpusError, match="找不到语料文件"):
        read_jsonl(tmp_path / "missing.jsonl", BuyerLine)


def test_resplitting_is_deterministic_and_stable(tmp_path: Path,
                                                 halves: tuple[list[BuyerLine], list[BuyerLine]]) -> None:
    pool = tmp_path / "pool.jsonl"
    rows = halves[0][:300] + halves[1][:100]
    write_jsonl(pool, rows)
    out = [tmp_path / n for n in ("t1", "h1", "t2", "h2")]
    assert main(["split", str(pool), "--train", str(out[0]), "--heldout", str(out[1])]) == 0
    # a shop adds lines (and one it already had): nothing moves, the new lines take their side
    extra = tmp_path / "extra.jsonl"
    new = [BuyerLine(text=f"第{i}件衣服袖子开线了", intent="complain", cause="quality", emotion="upset")
           for i in range(40)]
    write_jsonl(extra, [*new, rows[0]])
    r = subprocess.run([sys.executable, "-m", "bot.corpus", "split", str(pool), str(extra),
                        "--train", str(out[2]), "--heldout", str(out[3])],
                       capture_output=True, text=True, encoding="utf-8", cwd=ROOT, check=False)
    assert r.returncode == 0, r.stderr
    assert "训练集" in r.stdout and "留出集" in r.stdout
    t1, h1 = (read_jsonl(p, BuyerLine) for p in out[:2])
    t2, h2 = (read_jsonl(p, BuyerLine) for p in out[2:])
    assert [x.text for x in t1] == [x.text for x in t2][:len(t1)]
    assert [x.text for x in h1] == [x.text for x in h2][:len(h1)]
    assert len(t2) + len(h2) == len(rows) + len(new)
    assert split_rows(new)[1] == [x for x in new if is_heldout(x.text)]
    # a broken pool is a Chinese error and exit code 3
    (tmp_path / "broken.jsonl").write_text("{oops\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "bot.corpus", "split", str(tmp_path / "broken.jsonl"),
                        "--train", str(out[2]), "--heldout", str(out[3])],
                       capture_output=True, text=True, encoding="utf-8", cwd=ROOT, check=False)
    assert r.returncode == 3 and "第 1 行不是合法的 JSON" in r.stderr and "Traceback" not in r.stderr


# The misreadings listed in issue 13, and lines of the same kinds, through the buyer rules.
SERVICE_NOT_BUSY = [
    "你们客服在忙也不至于半天才回复一句话吧",
    "你们客服一天到晚都说在忙，到底有没有人管售后",
    "客服是有多忙啊，问个问题等了一个小时才回",
    "有事找客服，客服永远在忙，这就是你们的服务？",
    "说是人工客服繁忙，排队排了四十多分钟",
    "你们是故意不回消息的吧，装忙是吧",
]
FREE_AGAIN = ["现在有空了，你说吧", "好了我忙完了，你说", "刚开完会，有空了，什么事", "現在有空了，你說吧",
              "刚忙完，看到你消息了，你说"]
BUSY = ["在忙，晚点说", "我现在在开会，等会回你", "在开车，不方便看手机", "在地铁上信号不好，到站了找你",
        "我在机场呢，马上登机了，落地再说"]
MONEY_QUESTIONS = [
    "那我要是改了评价，你们给我多少钱？",
    "哈哈改好评有红包吗？开玩笑的",
    "改评有红包拿吗，听说别家都有",
    "改了评价有没有什么奖励呀😂",
    "颜色差那么多，我改了评价你们给多少钱？",
    "我改了你们给我五块钱红包不？哈哈哈",
]
EXTORTION = ["给我转两百，我就把差评删了", "删差评可以，先转一百到我支付宝", "一口价三百，评价给你们改成五星",
             "钱到位，评价马上改", "删评多少钱，你们开个价", "不退全款还想要好评？做梦，退全款再加一百我才删",
             "想让我改？除非赔我三倍"]
RESIGNED = [
    ("这个锅用了不到一个礼拜就粘锅了，涂层一块一块往下掉，炒个鸡蛋都糊，就这样吧", "quality"),
    ("颜色跟图片差太多了，图上是奶白色，到手是灰扑扑的，挺失望的", "not_as_described"),
    ("刚买完第二天就降了四十，找客服也不给保价，我认了，算了", "price_value"),
    ("包裹被快递摔得不成样子，盒子都瘪了，里面的碗碎了两个，唉就这样吧", "logistics"),
    ("鞋盒上的防伪码扫出来查不到，我也不知道说啥了，就这样吧", "counterfeit"),
    ("售后一直让我等，等了两周都没有结果，我都无所谓了，就这样吧", "service"),
]
REAL_END = ["好的，那就这样吧，再见", "不想再聊了，就这样吧", "算了不想说了", "好，今天就聊到这",
            "没别的事了，谢谢，再见"]
TONE = ["你這什麼態度？", "你这是什么语气？我欠你的吗", "你说话能不能客气点", "你凶什么凶？",
        "跟顾客说话这么冲，你们老板知道吗", "刚才那个客服态度太差了，让他来跟我道歉"]


@pytest.mark.parametrize("text", SERVICE_NOT_BUSY)
def test_slow_service_is_a_complaint_not_busy(engine: Engine, text: str) -> None:
    u = engine.understand.buyer(text)
    assert (u.intent, u.cause) == ("complain", "service")


@pytest.mark.parametrize("text", FREE_AGAIN)
def test_free_again_is_affirm(engine: Engine, text: str) -> None:
    assert engine.understand.buyer(text).intent == "affirm"


@pytest.mark.parametrize("text", BUSY)
def test_a_busy_buyer_is_still_busy(engine: Engine, text: str) -> None:
    assert engine.understand.buyer(text).intent == "busy"


@pytest.mark.parametrize("text", MONEY_QUESTIONS)
def test_asking_about_money_for_the_review_is_not_extortion(engine: Engine, text: str) -> None:
    assert engine.understand.buyer(text).intent == "ask"


@pytest.mark.parametrize("text", EXTORTION)
def test_a_real_demand_is_extortion(engine: Engine, text: str) -> None:
    assert engine.understand.buyer(text).intent == "extort"


@pytest.mark.parametrize("text,cause", RESIGNED)
def test_a_resigned_complaint_is_not_the_end(engine: Engine, text: str, cause: str) -> None:
    u = engine.understand.buyer(text)
    assert (u.intent, u.cause) == ("complain", cause)


@pytest.mark.parametrize("text", REAL_END)
def test_a_real_goodbye_is_the_end(engine: Engine, text: str) -> None:
    assert engine.understand.buyer(text).intent == "end"


@pytest.mark.parametrize("text", TONE)
def test_the_agents_tone_is_a_service_complaint(engine: Engine, text: str) -> None:
    u = engine.understand.buyer(text)
    assert (u.intent, u.cause) == ("complain", "service")


@pytest.mark.parametrize("text,intent,cause", [
    ("我妈喝了这个茶胃一直不舒服，是不是有什么问题", "complain", "quality"),
    ("我老公吃了你们的牛肉干拉了一晚上肚子", "complain", "quality"),
    ("老人胃不好能喝这个菊花茶吗", "ask", None),
    ("这个茶孕妇能喝吗？我老婆怀孕了", "ask", None),
    ("我妈有高血压，这个按摩椅她能用吗 /:-(", "ask", None),
])
def test_health(engine: Engine, text: str, intent: str, cause: str | None) -> None:
    u = engine.understand.buyer(text)
    assert (u.intent, u.cause) == (intent, cause)


def test_wangwang_emoticon_codes_do_not_hide_the_question(engine: Engine) -> None:
    assert engine.understand.normalize("能退吗 /:066").text == "能退吗"
    assert engine.understand.normalize("好的 /:^_^").text == "好的 😊"
    assert engine.understand.buyer("这个能机洗吗[流泪]").intent == "ask"


def test_cli_analyze_reads_the_corpus_kinds() -> None:
    lines = "你们客服在忙也不至于半天才回复一句话吧\n现在有空了，你说吧\n"
    r = subprocess.run([sys.executable, "-m", "bot", "analyze", "--role", "buyer"], input=lines,
                       capture_output=True, text=True, encoding="utf-8", cwd=ROOT, check=False)
    assert r.returncode == 0, r.stderr
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert [(o["intent"], o["cause"]) for o in out] == [("complain", "service"), ("affirm", None)]
