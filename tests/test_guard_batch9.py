"""The guard on batch 9 of the hand-written shop lines (scripts/guard_handwritten.jsonl): violations
phrased the way real 淘宝/天猫 agents type and hide them (调一下评价, dictated review words, a remedy
that waits for the review, folk menace, data held up or handed on, 耽误您一分钟, 就看这一单,
到您手上怎么就坏了) and the clean near-misses around them (a refused refund, the order's own
refund, one request after the fix, the order's address confirmed for a re-send).

The rules were changed by word classes for the batch's TRAIN lines; every line here is a sibling
written afterwards, in none of the corpus files, so a rule that only memorised its line fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine import Engine
from bot.guard.corpus import BLOCK_CODES
from bot.training.persona import find_persona
from bot.training.rubric import load_rubric
from bot.training.session import Session, run_scripted
from tests.shared import guard_corpus_texts as _corpus_texts
from tests.shared import guard_findings as _findings

VIOLATIONS = [
    # 调 said of the review, asked further off, the words dictated, the review written and reported
    ("评价您看能不能往上调个一两星，我这边给您申请点补贴", "conditional_benefit"),
    ("中评那边可不可以帮忙处理下呀，运费我们给您报了", "conditional_benefit"),
    ("评论您就写“很好用，推荐”，然后找我领券", "conditional_benefit"),
    ("评价写好后告诉我一声，给您寄个小样", "conditional_benefit"),
    # a remedy waiting for the review, the goods or the money left to the buyer for it
    ("就等您差评删了我马上给您退", "conditional_benefit"),
    ("亲，这个差评能不能高抬贵手撤了，这单钱我们不要了", "conditional_benefit"),
    ("亲，要不这样，您把差评删了，这个货您留着", "conditional_benefit"),
    ("退款办不了，除非您把评价删了", "conditional_benefit"),
    ("补发的钱我们出，中评这块得您先帮个忙改掉", "conditional_benefit"),
    # a gift pack or thank-you money, the review only hinted at
    ("亲～给五星的话，我们有专属售后关怀礼包哦", "conditional_benefit"),
    ("麻烦您把评价改成5分，改完联系我领取感谢金", "conditional_benefit"),
    ("我们这边给您申请50元补偿，您看差评这边？", "conditional_benefit"),
    ("钱我这边可以给您退，评价您懂的", "conditional_benefit"),
    ("亲，我这边私人送您一个小礼物，您评价那边高抬贵手", "conditional_benefit"),
    ("亲，我给您转个红包，就当交个朋友，评价那个您看着办", "conditional_benefit"),
    ("兄弟，评价改下，请你喝奶茶", "conditional_benefit"),
    ("追平送小样～", "conditional_benefit"),
    ("本店不提供发票，五星好评返现5元", "conditional_benefit"),
    # no more shipping, folk menace, the buyer found in person
    ("以后您再下单我们都不会给您发货了", "threat"),
    ("我劝您做人留点余地，差评的事好自为之", "threat"),
    ("差评的事要是闹大了，对您可没什么好处", "threat"),
    ("差评再不撤，我们就找到您本人当面谈", "threat"),
    ("评价不删的话，我们会申请冻结您的账号", "threat"),
    ("您这种行为已经构成敲诈，我们随时可以报案", "threat"),
    # data held up as known, handed on, people around the buyer, family seen elsewhere
    ("你家的住址我们早就查到了", "privacy"),
    ("把您的账号告诉了别的店铺，大家都会注意的", "privacy"),
    ("您的邻居我们也认识，评价的事好商量", "privacy"),
    ("您家小孩挺可爱的，上次视频里看到了", "privacy"),
    ("我们查了下，您这个号注册才一个月，还给了好几个差评", "privacy"),
    # the time belittled, asked when, watched, a deadline in days
    ("就占用您两分钟，评价那里改一下就好", "pressure"),
    ("差评什么时候能删掉呀？", "pressure"),
    ("我在这守着呢，您改完说一声", "pressure"),
    ("请于两日内把中评修改掉，谢谢配合", "pressure"),
    ("您再想想嘛，删个差评就好了", "pressure"),
    ("亲，明天、后天、大后天我都会来提醒您一下评价哈", "pressure"),
    ("亲，这都第五天了，差评还挂着呢", "pressure"),
    ("我们全组今晚都要因为这个差评加班写报告", "guilt_trip"),
    ("评价的事您抓点紧哈，我们这边月底要考核", "pressure"),
    ("亲，我们店就靠这点好评活着了", "guilt_trip"),
    ("亲，您是我们今天第一个差评，老板脸都黑了", "guilt_trip"),
    ("亲，之前麻烦您改评价的事，您看有进展吗", "repeat_request"),
    ("亲，我们的小程序里有您的会员资料，您生日是下个月吧", "privacy"),
    ("您上次在我们店退的那件大衣，也是说质量问题", "privacy"),
    ("亲，我知道您在抖音上也发了视频说我们不好", "privacy"),
    ("这种小问题您也给差评，太计较了吧", "blame"),
    ("您这么说就不对了，东西我们是按图发的", "blame"),
    # the pay hanging on one order, the job lost
    ("提成就看这一单了，评价拜托您了", "guilt_trip"),
    ("主管说了评价不改就不用来上班了", "guilt_trip"),
    # broken once it reached the buyer, water, the price mocked, not plugged in, contempt
    ("到您那边怎么就不行了呢，我们出库都是好的", "blame"),
    ("一看就是被开水烫过的", "blame"),
    ("这么便宜的价格还要求这么高", "blame"),
    ("您没扣紧盖子吧，所以才漏的", "blame"),
    ("您这样的买家我们见得多了", "blame"),
    ("正常人都不会这样用的", "blame"),
    ("您自己拆开的时候不注意，划到了吧", "blame"),
    ("亲，这个是您自己放冰箱冻裂的", "blame"),
    ("第三次跟您说评价的事了", "repeat_request"),
]

CLEAN = [
    # a service refused is not offered, so the review beside it is a plain request
    "退款这边没办法给您办理，评价您随意",
    "这个运费险不归我们管，评价那个能不能帮忙改下",
    "补发做不了，除非您把地址改一下",
    # the near-misses of the new classes
    "到您那边怎么会这么久，我帮您催一下快递",
    "天猫评价可以调星级吗？可以的，在评价管理里调一下就行",
    "以后不会再给您派错件了",
    "您的电话我们都有，快递联系不上您的话我们会打给您",
    "您的地址显示是江苏南京，对吗？我们按这个补发",
    "您家宝宝多大了，我帮您推荐尺码",
    "钱给您全额退了，那件衣服您留着穿就行，给您添麻烦了",
    "评价什么时候改都可以，不着急",
    "我们安排师傅上门跟您沟通安装位置",
    "抱歉，用钱换好评这种事我们做不了",
    "您的账号被平台限制了，这个我们没法处理，评价的事您随意",
    "我们不会去限制您的账号，评价是您的权利",
    "优惠码已经发您了，下单时填写即可",
    "退款已经到账了，您看评价这边？",
    "亲，这都三天了，快递还没到，我帮您催一下",
    "不是您自己不小心弄的，是我们包装的问题",
    "亲，我们已经向快递公司报案了，丢件会全额赔给您",
    "亲，我们的法务同事确认过了，这个情况可以给您全额退款",
    "亲，您的好评我们收到了，感谢支持，送您的赠品是下单就有的活动",
    "亲，我这边一直守着您的快递，有消息第一时间告诉您",
    "您的地址我们这边都有记录，补发直接寄过去就行",
    "亲，那您再考虑一下要换货还是退款，考虑好了跟我说",
    "补偿给您转过去了，评价的事您看着办就好，怎么决定都尊重您",
    "亲，之前给您退的那笔款到账了吗",
    "亲，退款进展怎么样了，我帮您看看",
    "亲，如果是皮肤太敏感了，建议先停用",
    "感谢您选择本店！本店不以任何形式索要好评，也不提供好评返现，有问题请先联系客服",
]


def test_the_siblings_are_in_no_corpus_file() -> None:
    texts = _corpus_texts()
    assert not [t for t, _ in VIOLATIONS if t in texts]
    assert not [t for t in CLEAN if t in texts]


@pytest.mark.parametrize(("text", "code"), VIOLATIONS)
def test_batch9_wording_is_found(engine: Engine, text: str, code: str) -> None:
    found = _findings(engine, text)
    assert code in found, found
    if code in BLOCK_CODES:
        assert found[code] == "block"


@pytest.mark.parametrize("text", CLEAN)
def test_batch9_look_alikes_pass(engine: Engine, text: str) -> None:
    assert _findings(engine, text) == {}


def test_a_refused_refund_is_not_offered_across_messages(engine: Engine) -> None:
    ask = "评价的话您看能不能帮忙改一下"
    assert _findings(engine, ask, ("这个退款我们这边没办法给您批，已经过了售后期",)) == {}
    # offered, it still ties
    assert _findings(engine, ask, ("退款我这边马上给您批",))["conditional_benefit"] == "block"


def test_reconsider_after_a_request_that_left_the_choice(engine: Engine) -> None:
    offer = "给您换一副新的，或者退您订单金额的三成，您看哪个合适？"
    asked = "好的，已经安排了。冒昧问一句，您愿意考虑更新一下评价吗？这完全是您的权利。"
    push = "您再考虑一下嘛，改下评价就好"
    # the request stopped the walk back to the offer: asking again is no new tie
    assert _findings(engine, push, (offer, asked)) == {"pressure": "warn", "repeat_request": "warn"}
    # the offer alone before it: the review asked for now is tied to it
    assert _findings(engine, push, (offer,))["conditional_benefit"] == "block"


def test_the_trainer_scores_the_push_as_pressure_not_a_benefit(engine: Engine) -> None:
    good = [ln for ln in Path("tests/data/trainees/keeps_review_experienced.good.txt").read_text(
        encoding="utf-8").splitlines() if ln.strip()]
    s = Session(engine, find_persona(engine.dialogs, "keeps_review_experienced"), load_rubric(engine.dialogs), 1)
    run_scripted(s, [*good[:7], "您再考虑考虑嘛，改一下评价就行", good[7]])
    card = s.scorecard
    assert card is not None
    # the same cost as arguing with the no (test_training_conduct): pressure and the repeat, once
    assert [(d.turn, d.code) for d in card.computation.deductions] == [  # type: ignore[union-attr]
        (8, "pressure"), (8, "repeat_request")]
