"""Flow rules that keep the development dialogs right when the batch-24 model's reading of a
choice moves: a reply that opens on an option and goes on to ask about it or to caution
("退钱 退了钱还要我寄回去吗" read as a service question, "换 这次别再等九天了 20块也要" as a weak
service complaint) still chooses. Each reading is pinned, so the flow is tested apart from any model."""

from __future__ import annotations

from bot.models import Conversation
from tests.dialog import Flow
from tests.shared import model_read, shared_engine

ENGINE = shared_engine()
FRUIT = {"shop": "果园直供", "buyer_name": "薛", "honorific": "先生", "product": "猕猴桃"}
SHOES = {"shop": "山行户外", "buyer_name": "蔺", "honorific": "先生", "product": "登山鞋"}


def _fruit_offered() -> Conversation:
    return (Flow(ENGINE, FRUIT).agent("您好，请问是薛先生吗？我是果园直供的售后客服小吴。").buyer("是")
            .agent("您前天收到的那箱猕猴桃，还好吗？").buyer("一半是软烂的 一捏一包水").expect("listen_apologize")
            .agent("实在抱歉，一箱打开一半是烂的，太糟心了。").expect("explain")
            .agent("这两天转运中心压仓，路上多走了两天，熟得快的就烂了，我们已经改发冷链了。").expect("remedy")
            .agent("烂的那些按个数给您退钱，或者给您重发一箱，您看哪个？").expect("remedy")).conv


def test_a_choice_then_a_question_about_it_chooses() -> None:
    """The question after the choice asks what it takes; the reply that arranges it answers."""
    pinned = model_read("退钱 退了钱还要我寄回去吗", [("ask", 0.53)], "ask", 0.53, cause="service")
    conv, _ = ENGINE.feed_understood(_fruit_offered(), pinned)
    assert conv.stage == "polite_request"
    assert conv.context.remedy_chosen is not None and conv.context.remedy_about == conv.context.remedy_chosen


def test_a_question_about_an_option_alone_chooses_nothing() -> None:
    pinned = model_read("退了钱还要我寄回去吗", [("ask", 0.53)], "ask", 0.53, cause="service")
    conv, _ = ENGINE.feed_understood(_fruit_offered(), pinned)
    assert conv.stage == "remedy" and conv.context.remedy_chosen is None


def _shoes_offered() -> Conversation:
    return (Flow(ENGINE, SHOES).agent("您好，请问是蔺先生吗？我是山行户外的售后客服小韩。").buyer("对")
            .agent("您上个月买的那双登山鞋，收到以后穿着怎么样？")
            .buyer("别提了 下单说48小时发货 等了九天才到 周末爬山都没赶上").expect("listen_apologize")
            .buyer("这还不算 穿了一次鞋底前面就开了个口")
            .agent("真对不起蔺先生，等了九天没赶上爬山，穿一次鞋底又开口，两件事都太糟心了。").expect("explain")
            .agent("发货晚是那几天仓库爆单，我们没提前跟您说，是我们不对；鞋底开口是这批鞋的大底胶没压实。")
            .expect("remedy")
            .agent("给您换一双新的，走顺丰，两天内到；或者退货退款。另外发货晚的事补偿您20元，您看？")
            .expect("remedy")).conv


def test_a_bare_option_then_a_caution_chooses() -> None:
    """"这次别再等九天了" cautions for next time: no new problem after the choice."""
    pinned = model_read("换 这次别再等九天了 20块也要", [("complain", 0.25)], "complain", 0.25, cause="service")
    conv, _ = ENGINE.feed_understood(_shoes_offered(), pinned)
    assert conv.stage == "polite_request"


def test_a_bare_option_then_a_new_problem_tells_it() -> None:
    pinned = model_read("换 鞋带也断了", [("complain", 0.9)], "complain", 0.9, cause="quality")
    conv, _ = ENGINE.feed_understood(_shoes_offered(), pinned)
    assert conv.stage != "polite_request"


LITTER = {"shop": "萌宠之家", "buyer_name": "于", "honorific": "女士", "product": "猫砂"}


def test_the_message_that_brings_the_talk_to_the_problem_may_tell_it() -> None:
    """Asked who is calling, then told the order: the reply that owns it and complains (read as a
    complaint with no cause) brings the talk to 倾听致歉; the agent's apology that feels for a
    problem and asks nothing shows it was told, so the explanation and the options move on."""
    asked = (Flow(ENGINE, LITTER).agent("喂您好，请问是于女士吗？我是萌宠之家的售后客服小潘。")
             .buyer("这个电话是干嘛的")
             .agent("您别担心，不是推销，您前几天在我们店买了一袋猫砂，想问问用得怎么样。"))
    pinned = model_read("哦 是我买的 那猫砂粉尘太大了 一倒满屋子灰", [("complain", 0.65)], "complain", 0.65)
    conv, _ = ENGINE.feed_understood(asked.conv, pinned)
    assert conv.stage == "listen_apologize"
    conv, _ = ENGINE.feed(conv, "agent", "真抱歉，粉尘这么大，人和猫都遭罪。")
    assert conv.stage == "explain" and conv.context.problem_stated
    conv, _ = ENGINE.feed(conv, "agent", "这批猫砂少过了一道筛，细粉没筛干净，我们已经让厂家返工了。")
    assert conv.stage == "remedy"


TENT = {"shop": "途乐户外", "buyer_name": "严", "honorific": "先生", "product": "帐篷"}


def test_the_review_named_as_why_the_agent_calls_is_no_request() -> None:
    """"看到您给帐篷留了差评，想跟您了解下情况" (read as a review request) asks nothing changed:
    the choice later goes on to the request, and the refused extra is not chosen."""
    offered = (Flow(ENGINE, TENT).agent("您好，请问是严先生吗？我是途乐户外的售后客服小方。")
               .agent("严先生您好，看到您给帐篷留了差评，想跟您了解下情况，方便的时候回我一下就行。")
               .buyer("刚看到 是我 下午在开会")
               .agent("没事，您上周买的那顶四人帐篷，用过了吗？")
               .buyer("用了 周末去露营 半夜下雨 顶上漏水 睡袋都湿了").expect("listen_apologize")
               .agent("真的很抱歉，出去玩一趟碰上漏水，睡袋都湿了，太遭罪了。").expect("explain")
               .agent("我们查了一下，这批帐篷外帐顶部接缝的压胶条有一段没压实，下大雨就会渗。")
               .agent("给您换一顶新的，或者退货退款，另外睡袋的清洗费我们补您30元，您看？").expect("remedy"))
    assert offered.conv.context.review_requests == 0
    pinned = model_read("退货吧 清洗费就不用了", [("deny", 0.71)], "deny", 0.71)
    conv, _ = ENGINE.feed_understood(offered.conv, pinned)
    assert conv.stage == "polite_request"
    assert conv.context.remedy_chosen == "return_refund"
