"""Moving the buyer to an outside app (加我微信 abc123): Taobao forbids 引导买家站外联系/交易.
A warning of its own; with a benefit it is the conditional-benefit block, said once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.engine import Engine
from tests.shared import guard_corpus_texts

ROOT = Path(__file__).resolve().parent.parent


def _codes(engine: Engine, text: str) -> dict[str, str]:
    return {f.code: f.severity for f in engine.understand.findings(text, (), None)}


def test_lint_warns_of_an_outside_app_in_chinese_with_a_rewrite() -> None:
    r = subprocess.run([sys.executable, "-m", "bot", "lint", "--json"], input="加我微信 abc123 处理\n",
                       text=True, capture_output=True, cwd=ROOT, check=False)
    (row,) = [json.loads(x) for x in r.stdout.splitlines()]
    (f,) = row["findings"]
    assert r.returncode == 0, r.stderr  # a warning: the line may be rewritten, it is not a block
    assert (f["code"], f["severity"]) == ("off_platform", "warn")
    assert "站外" in f["message"] and "旺旺" in f["rewrite"]
    human = subprocess.run([sys.executable, "-m", "bot", "lint"], input="加我微信 abc123 处理\n",
                           text=True, capture_output=True, cwd=ROOT, check=False)
    assert "【注意】引导买家站外联系" in human.stdout and "off_platform" not in human.stdout, human.stdout


# Siblings of the corpus lines (not in it): the rule, not the lines, is what is tested.
@pytest.mark.parametrize("text", [
    "亲，您加一下我微信 kefu_2026，照片发过来我看看",
    "这事您加我QQ 5566778899 找我就行",
    "亲，方便留个微信吗？我们这边加您",
    "姐，这里说不方便，咱们私下联系",
    "您长按识别二维码加我好友，我给您处理",
])
def test_outside_apps_are_warned(engine: Engine, text: str) -> None:
    assert text not in guard_corpus_texts()
    assert _codes(engine, text) == {"off_platform": "warn"}


@pytest.mark.parametrize("text", [
    "我们不会让您加微信的，有问题就在这里说",
    "平台的聊天记录都在，您放心",
    "让您加微信退款的都是骗子，千万别信",
    "退款原路退回您付款的微信支付",
    "扫一下说明书上的二维码可以看视频教程",
    "亲，这件可以先加入购物车，活动时再买",
])
def test_near_misses_are_clean(engine: Engine, text: str) -> None:
    assert text not in guard_corpus_texts()
    assert _codes(engine, text) == {}


def test_with_a_benefit_it_is_the_block_alone(engine: Engine) -> None:
    """The block already says the benefit went off the platform: no second finding beside it."""
    assert _codes(engine, "亲，加我微信 abc123，给您发个红包") == {"conditional_benefit": "block"}


@pytest.mark.parametrize("text", ["加我微信 abc123 给您处理", "加微信 wx8888 给您处理", "加我QQ 12345给你看"])
def test_the_account_number_is_no_sum(engine: Engine, text: str) -> None:
    """The digits of a WeChat or QQ account before 给您 were read as a sum paid off the platform
    (ties.benefit "\\d给您"): a block about reviews for a message that only moves the buyer away."""
    assert text not in guard_corpus_texts()
    assert _codes(engine, text) == {"off_platform": "warn"}


@pytest.mark.parametrize("text", ["亲 改个好评 20给你", "好评后返50给您"])
def test_a_sum_before_给您_is_still_a_benefit(engine: Engine, text: str) -> None:
    assert _codes(engine, text) == {"conditional_benefit": "block"}


def test_covered_by_must_name_another_code(tmp_path: Path) -> None:
    import shutil

    from bot.dataload import DataError, load_yaml

    shop = tmp_path / "dialogs"
    shop.mkdir()
    shutil.copy(ROOT / "dialogs" / "guard.yaml", shop / "guard.yaml")
    text = (shop / "guard.yaml").read_text(encoding="utf-8")
    (shop / "guard.yaml").write_text(text.replace("covered_by: [conditional_benefit]", "covered_by: [benefit]"),
                                     encoding="utf-8")
    with pytest.raises(DataError, match="covered_by 里的 benefit"):
        load_yaml(shop, "guard.yaml")


@pytest.mark.parametrize("text", ["加我微信 xiaoxiong888，私下给您补偿", "钉钉加我一下，私下转您30块"])
def test_money_off_the_platform_without_a_review_is_blocked_for_the_private_deal(text: str) -> None:
    # QA: it was blocked as 好评返现 although no review is named; the block stays (money off the
    # platform), the reason is leading the buyer off the platform
    r = subprocess.run([sys.executable, "-m", "bot", "lint", "--json"], input=text + "\n",
                       text=True, capture_output=True, cwd=ROOT, check=False)
    (row,) = [json.loads(x) for x in r.stdout.splitlines()]
    (f,) = row["findings"]
    assert r.returncode == 1 and (f["code"], f["severity"]) == ("conditional_benefit", "block")
    assert "平台外" in f["message"] and "私下" in f["message"] and "好评返现" not in f["message"]
    assert "旺旺" in f["rewrite"] and "评价" not in f["rewrite"]


def test_money_off_the_platform_for_a_review_keeps_the_review_reason() -> None:
    r = subprocess.run([sys.executable, "-m", "bot", "lint", "--json"], input="加我微信，私下给您补偿，差评删一下\n",
                       text=True, capture_output=True, cwd=ROOT, check=False)
    (f,) = json.loads(r.stdout)["findings"]
    assert f["code"] == "conditional_benefit" and "好评返现" in f["message"]
