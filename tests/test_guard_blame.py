"""The guard's `blame` finding (and with it the agent act `blame_buyer`) on the classes real
agents blame the buyer in, and on the near-misses that are no blame.

Every line is fresh: in none of the corpus files (the rules were changed by word classes for the
train lines of the agent corpus's batch 12, see docs/guard.md). On the start commit (30462f4) 22 of
the 36 blame lines were missed and "不是您用得不对" was read as blame."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.engine import Engine
from tests.shared import guard_corpus_texts as _corpus_texts
from tests.shared import guard_findings as _findings

BLAME = [
    # 验货、签收时检查说成买家欠的
    "签收前应该先开箱检查的，现在已经签收了我们也不好判断",
    "收货的时候没当场验一下吗？现在说少件我们很难核实哦",
    "亲，快递员在的时候就该拆开看看的哦",
    # 没按说明、使用不当
    "这个一般是没按说明书操作导致的哦",
    "可能是您安装的时候螺丝没拧到位，所以才会晃",
    "說明書上寫了不能空燒，您這樣用肯定會壞的",
    "亲，详情页不是写了不能机洗吗？",
    # 家里的孩子、宠物弄坏的
    "这种断口一看就是小朋友掰断的哦",
    "应该是家里狗狗咬的吧，我们发出去都是好的",
    "是被您家孩子拽坏的，跟质量没关系",
    # 洗涤、烘干、暴晒
    "羊毛衫缩成这样，是您放进烘干机烘了吧",
    "亲亲，这个掉色是用了热水洗造成的哦",
    "太阳底下暴晒久了，颜色当然会发白",
    # 没问客服、没看详情页、没备注
    "下单前没问客服就拍了，尺寸不合适也不能怪我们呀",
    "宝子，商品页面第一张图就写着是预售，您下单时没留意哦",
    "您拍之前要是先咨询一下就不会买错了",
    # 不接电话、地址写错
    "快递员打了三次电话您都没接，所以包裹被退回了",
    "您留的门牌号少了一位，快递才送不到的",
    "地址是您自己填的，写错了我们也没办法哦",
    # 尺码自己选错
    "按尺码表您应该拿L码，您自己拍了M，当然穿不上",
    "亲，码子是您自己选小了，不属于质量问题哦",
    # 个人体质、过敏
    "过敏是个人肤质的原因，我们的产品成分都是温和的",
    "亲，这个跟您自身体质有关系，别人用都不会红",
    # 期望太高
    "几十块的东西，您不能拿大牌的标准来要求",
    "这个价位已经很不错了，亲要求有点高哦",
    # 含糊的说法（一般是…哦、可能是您…、建议您下次…）
    "一般是宝宝用力咬才会这样的哦",
    "可能是您清洗的时候水温太高了，才会变形的",
    "建议您下次收货时当着快递员的面拆开检查，就不会有这种纠纷了",
    # 被动句
    "这个拉链明显是被硬拽坏的",
    "鞋底是被长时间泡水泡开胶的",
    # 反问（详情页不是写了吗）
    "页面上不是写着需要手洗吗",
    "我们不是提醒过要先充满电再用吗？",
    # 更多：签收检查、没确认、没备注、电话没人接
    "亲，收到货要第一时间检查，过了这么久我们没法确认哦",
    "您自己没及时确认收货地址，延误了也不能算我们的",
    "您在下单页面没有备注，我们只能按默认发货的哦",
    "电话打了好几遍都没人接，只能退回仓库了，运费需要您承担",
]

# The shop owning the fault, the buyer's use denied, a normal trait explained, care tips the buyer
# asked for, the courier or warehouse at fault, a diagnostic question: no blame.
NOT_BLAME = [
    "亲，这次是我们质检漏掉了，跟您的使用没有关系",
    "并非您操作的问题，是这批电池本身容量不足",
    "羊绒衫刚开始穿有一点浮毛是正常的，穿几次就好了",
    "蜂蜜天冷结晶是正常现象，说明是真蜂蜜，隔水温一下就化了",
    "您问的清洗方法：建议冷水手洗，平铺阴干，不要暴晒哦",
    "包裹是快递中转的时候被压坏的，我们已经找快递公司索赔了",
    "是仓库打包时没放泡沫，所以路上磕坏了，实在抱歉",
    "温馨提示：羽绒服不建议机洗，可以送干洗店",
    "不是您的问题，是快递员送错了地址",
    "新锅第一次使用前用清水煮一下就好了",
    "亲，您下单的时候选的是L码对吗？我们核对一下",
    "完全理解，换了谁都会生气，不是您用得不对，是我们的配件有问题",
    "您电话没打通，我们就给您发了短信，方便的时候回个电话哈",
    "是我们详情页没写清楚，让您选错了码，非常抱歉",
    "实木家具有细小的天然裂纹属于正常，不影响使用",
    "您说的那种情况，可能是快递路上颠簸造成的，我们给您补发",
    "如果您下次用的时候还是漏，可以拍个视频给我们",
    "绝对不是您使用不当造成的，是电机的问题，给您换新",
    "快递把箱子压扁了，里面的杯子才碎的，我们马上补发",
    "亲，下次有问题可以直接找客服，我们第一时间处理",
    "这款面料遇水会有点缩，您问到了我跟您说一下，冷水手洗就不会",
    "您的电话我们打过去没人接，想确认一下是不是号码有变动",
]


def _agent_corpus_texts() -> set[str]:
    root = Path(__file__).resolve().parent.parent
    texts: set[str] = set()
    for path in (root / "dialogs/corpus/train/agent.jsonl", root / "tests/data/public/agent_dev.jsonl"):
        texts |= {json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line}
    return texts


def test_the_lines_are_in_no_corpus_file() -> None:
    texts = _corpus_texts() | _agent_corpus_texts()
    assert not [t for t in BLAME + NOT_BLAME if t in texts]


@pytest.mark.parametrize("text", BLAME)
def test_blame_is_found_and_is_the_act(engine: Engine, text: str) -> None:
    found = _findings(engine, text)
    assert found.get("blame") == "warn", found
    acts = engine.understand.agent(text).acts
    # the act follows the finding; a cause that blames the buyer is no explanation
    assert "blame_buyer" in acts and "explain" not in acts, acts


@pytest.mark.parametrize("text", NOT_BLAME)
def test_near_misses_are_no_blame(engine: Engine, text: str) -> None:
    assert "blame" not in _findings(engine, text)


def test_the_warning_and_its_rewrite_are_plain_chinese(engine: Engine) -> None:
    text = "这个一般是宝宝自己抠掉的哦"
    (f,) = [f for f in engine.understand.findings(text, (), None) if f.code == "blame"]
    assert f.message.startswith("把问题推给买家") and "先道歉" in f.message
    assert f.rewrite is not None and f.rewrite.startswith("实在抱歉")
    # the rewrite itself passes the guard
    assert _findings(engine, f.rewrite) == {}
