# ruff: noqa: E501  (phrase banks: one Chinese list per line reads better than wrapped)
"""Writes the guard corpus (dialogs/corpus/{train,heldout}/guard.jsonl) from phrase banks.

Lines are built the way agents type: particles, 亲/宝, emoji, typos, pinyin (hp, 好ping),
traditional characters, symbols between characters. The split is bot.corpus.is_heldout
(frozen hash), so a line's half never depends on this script. Deterministic (seed 2026).

    python scripts/guard_corpus.py [--out dialogs/corpus]

The phrase banks are followed by hand-written lines (scripts/guard_handwritten.jsonl, the
corpus format): whole messages in the style of real shops' scripts — 好评返现 cards, 追评送…,
删评, withholding, pressure and repeated contact, guilt, threats, private data — and the clean
near-misses a guard must let through (unconditional compensation, one request after the fix,
how-tos, staff explanations, addresses for the exchange). They are not dressed or varied.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

import opencc

from bot.corpus import is_heldout

RNG = random.Random(2026)
S2T = opencc.OpenCC("s2t")

PRE = ["", "", "", "亲，", "亲亲，", "宝，", "宝子，", "您好，", "亲爱的，", "姐，", "哥，", "亲~", "小姐姐，",
       "亲您好，", "在吗，", "嗯嗯，", "好的亲，", "宝宝，"]
POST = ["", "", "", "～", "哈", "😊", "🙏", "哦", "呢", "。", "！", "🌹", "~~", "[抱拳]", "😘", "哈哈", "呀", "💕"]

# --- review actions the shop wants (requests) ---
RV = ["把差评删了", "把差评删掉", "删一下差评", "把评价改成好评", "改个好评", "给个五星", "追加个好评",
      "晒个图给好评", "改一下评价", "帮忙改成5星", "给个hp", "改个好ping", "把评价撤了", "评分改成5分",
      "写个好评", "给个五星好评带图", "把那条评价删了", "把差评撤回", "帮忙改下评", "把评论修改一下",
      "给我们打个满分", "把1星改成5星", "把中评改掉", "评价改成五颗星", "给个haoping", "追评夸两句",
      "把中差评处理一下", "评价那里改一下", "改成5⭐", "删个评", "给个全五星", "把评价删除", "把差评去掉",
      "晒图五星", "评价弄成好评", "改成好评", "把那个差评撤掉", "五星好评一下", "给个好评"]
# --- benefits offered ---
BEN = ["补偿您30元", "给您转100块", "返您20元", "给您发个10元红包", "送您一张20元无门槛券", "给您返现15",
       "退您5块钱", "送您一个小礼品", "再送您一瓶同款", "给您补20块差价", "给您充50话费", "给您升级VIP",
       "给您发88元红包", "给您免单", "送您两包纸巾", "给您报销运费", "转您50", "给您包个红包", "给您20元辛苦费",
       "给您办个会员卡", "返现10元给您", "送您个赠品", "给您发个大红包", "给您¥30", "给您一张优惠券",
       "多退您10元", "给您打个8折", "送您一套小样", "给您返2块", "给您发5元无门槛", "给您补偿点钱",
       "给您200积分", "给您个内部价", "给您一个惊喜", "给您寄个小礼物", "给您发个🧧", "送您50元购物金"]
SERVICE = ["退款", "退货", "换货", "运费险的钱", "补发", "退款申请", "换新", "售后", "维修", "赔付",
           "差价", "退回的运费", "退款审核", "补寄的配件"]

CB_TEMPLATES = [
    "{b}，您看能不能{r}", "{r}的话，{b}", "只要您{r}，我们{b}", "如果您{r}，我这边{b}", "您{r}，我马上{b}",
    "您先{r}，我再{b}", "等您{r}以后我{b}", "{r}完就{b}", "先{r}再{b}", "您{r}之后截图发我，{b}",
    "{b}，前提是{r}", "麻烦{r}，我们{b}作为感谢", "领红包的时候顺手{r}", "我们{b}，顺便{r}",
    "{b}，麻烦您{r}", "您可以{r}吗？我们{b}", "我们{b}，您{r}", "辛苦您{r}，我们{b}",
    "{b}，就当{r}的辛苦费", "我们{b}，作为交换麻烦您{r}", "{b}，也请您{r}", "{r}了跟我说一声，{b}",
    "您要是{r}，{b}", "{r}后联系客服，{b}", "{b}，条件是您{r}", "{r}就能{b}", "要不这样，{b}，您{r}",
    "现在{r}的话马上{b}", "我私下{b}，您{r}", "{b}没问题，就是需要您{r}", "您帮个忙{r}，{b}",
    "{r}一下呗，{b}", "这边{b}，您那边{r}就行", "{b}，您看{r}行不", "您{r}完，{b}",
]
WITHHOLD_TEMPLATES = [
    ("您先{r}，{s}我这边马上就批", ["conditional_benefit"]),
    ("{r}完跟我说一声，{s}我马上给您弄", ["conditional_benefit"]),
    ("等您{r}了，{s}再给您处理", ["conditional_benefit"]),
    ("{s}要等您{r}以后才能办", ["conditional_benefit"]),
    ("{s}已经提交了，您{r}后我这边再点同意", ["conditional_benefit"]),
    ("您{r}了，{s}今天就能到", ["conditional_benefit"]),
    ("{s}的事好说，您先{r}", ["conditional_benefit"]),
    ("不{r}的话，{s}这边没法处理", ["conditional_benefit", "threat"]),
    ("您{r}之后{s}才能走流程", ["conditional_benefit"]),
    ("{s}卡在我这，您{r}我就放", ["conditional_benefit"]),
    ("{s}我先帮您压着，等您{r}", ["conditional_benefit"]),
    ("{r}了{s}秒批", ["conditional_benefit"]),
    ("系统要您{r}后才会给您发{s}", ["conditional_benefit"]),
    ("{s}可以给，不过得先{r}", ["conditional_benefit"]),
    ("先{r}，{s}随后就到", ["conditional_benefit"]),
    ("您那边{r}，我这边{s}马上安排", ["conditional_benefit"]),
    ("{s}没问题，{r}完截图给我看下", ["conditional_benefit"]),
    ("一天不{r}，{s}就一天不给办", ["conditional_benefit", "threat"]),
]
OFFP = [("加我微信{id}，给您发个红包", ["conditional_benefit"]), ("加我微信，给您发个红包", ["conditional_benefit"]),
        ("加个V吧{id}，私下给您补{n}块", ["conditional_benefit"]), ("我私下转您{n}块，您{r}", ["conditional_benefit"]),
        ("微信转您{n}，{r}", ["conditional_benefit"]), ("您加我vx {id}，{r}了我转您{n}", ["conditional_benefit"]),
        ("支付宝私下转您{n}元，评价的事您看着办", ["conditional_benefit"]), ("加下我qq {id}，红包在那边发", ["conditional_benefit"]),
        ("私聊我微信{id}，给您{n}元补偿，评价帮忙改下", ["conditional_benefit"]), ("咱们私下解决，我微信转您{n}", ["conditional_benefit"]),
        ("平台上不方便说，加我wx {id}，有红包", ["conditional_benefit"]), ("您{r}，我转账{n}到您支付宝", ["conditional_benefit"]),
        ("加个微信好友，{n}元马上到", ["conditional_benefit"]), ("转账给您{n}，您把评价处理下", ["conditional_benefit"]),
        ("我私人微信{id}，加了给您发{n}的红包", ["conditional_benefit"]), ("留个支付宝账号，我私下打{n}给您，差评麻烦撤一下", ["conditional_benefit"]),
        ("加我v信，{r}有红包", ["conditional_benefit"]), ("钉钉加我一下，私下补您{n}", ["conditional_benefit"]),
        ("私下给您{n}，聊天里就别提了，您{r}", ["conditional_benefit"]), ("扫我微信二维码，领{n}元红包", ["conditional_benefit"])]
IDS = ["xiaolu888", "kf_2023", "lily520", "abc12345", "13800138000", "tb_kefu01", "mm6688"]
NUMS = ["20", "30", "50", "100", "150", "200", "88", "66", "10", "5"]

# conditional benefit spread over two agent messages: (context, text)
CROSS = [
    (["亲，给您准备了一张20元的券"], "{r}哈"), (["这边给您补偿30元红包，等下发您"], "然后麻烦您{r}"),
    (["我们给您返现15元～"], "您看{r}可以吗"), (["送您一个小礼品，已经备注了"], "亲那{r}呗"),
    (["给您转50块钱补偿，您看行吗"], "收到的话{r}哈"), (["红包马上给您发过去"], "记得{r}哦"),
    (["亲，能不能{r}？"], "给您发个10元红包表示感谢"), (["麻烦您{r}哈"], "我们这边给您补20块"),
    (["想请您{r}"], "改好了给您返现"), (["{r}可以吗亲"], "券已经准备好了，您改完就发"),
    (["这边申请了一张50元无门槛券"], "等您{r}了我就点发放"), (["亲，退款我这边先不急着批"], "您先{r}哈"),
    (["给您准备了两包赠品"], "那个评价您看改一下"), (["补偿的钱我们私下微信转您"], "{r}就好"),
    (["我们可以给您补差价20元"], "评价的事也麻烦您帮帮忙"), (["您的退款申请我看到了"], "您先{r}，我再处理"),
    (["这次给您升级VIP，以后都打折"], "顺手{r}哈"), (["小礼物已经给您备好了"], "就差您{r}了"),
]
CROSS_R = ["改一下评价", "把差评删了", "给个好评", "改个五星", "把评价改成好评", "删一下差评", "追个好评"]

MAL_AGREE = ["好吧，150就150", "行吧，200给您，您删了吧", "可以，就按您说的来", "那我给您50行不行", "成交，您说个数",
             "钱可以给，您先把评价删了", "好好好，我们赔您300", "那这样，给您100，差评撤了", "您要多少？我们商量",
             "行，给您转过去，截图发我", "可以可以，补偿您80，您看能不能删评", "好的，按您说的给您退全款再补50",
             "那就120吧，不能再多了", "嗯，我跟领导申请一下您要的那个数", "OK，200，您先删", "好吧好吧，给您200块",
             "给您一半行吗？75", "可以的，您加我微信我转您", "行吧，认了，给您150", "那这样吧，钱给您，评价您处理下",
             "我们同意您的要求，马上转账", "就按您说的，赔偿到位您就删评", "您说的那个数我们接受", "好吧，我们出这个钱",
             "钱我们出，您那边改好评", "可以给您补偿，只要评价删掉就行", "那150，说好了哈", "好的亲，给您100，差评就别挂了",
             "领导同意了，给您150", "行，就这么办，您删评我转钱", "没问题，您说多少就多少", "成，给您两百"]

THREAT = ["您不删差评的话我们只能走平台投诉了", "再不改，我们就起诉您恶意差评", "不删的话您就进我们黑名单了",
          "我们知道您住哪，别逼我们上门", "不改的话以后本店商品都不卖给您", "我们会把您的聊天记录发到网上，让大家评评理",
          "您等着，这事没完", "后果自负", "不删评我们就找人上门跟您聊聊", "您不改我们就给您单位打电话",
          "我们已经联系律师了，律师函很快就到", "小心点，别以为我们找不到您", "走着瞧", "您这样我们只能报警了",
          "不删评就投诉您恶意评价，封您的号", "我们商家群里都会知道您这个人", "您不改的话，每天都打电话给您",
          "差评的事您最好考虑清楚", "把您的ID挂到微博上", "再这样我们就把您拉黑，以后别想买", "给您家里人打个电话说说这事",
          "您这是在逼我们走法律程序", "我们会告您诽谤", "不删的话，退货的事就别想了", "我们有您的地址，可以当面沟通",
          "不改好评后果很严重", "您不删，我们就把您曝光到小红书", "别怪我们不客气", "我们会联合别的店一起拉黑您",
          "识相的话就把差评删了", "不处理的话我们保留追究您法律责任的权利", "改不改您自己掂量", "您给差评，我们就给您差评",
          "信不信我们去您公司找您", "不删差评，以后您在淘宝上都买不了东西"]
GUILT = ["我这么晚还在加班，现在找工作不容易，真的希望您能帮助支持一下", "这个差评要扣我工资的，求求您了",
         "一个差评我就要被开除了", "主管说这单不改我要被罚款200", "我刚来实习，转正就看这个了，帮帮我吧",
         "家里还有孩子要养，求您高抬贵手", "我们小店快撑不下去了，再有差评就要关门了", "一个差评我这个月全勤奖就没了",
         "老板知道了会骂死我的", "我一个月就挣两千，这一扣就没饭吃了", "您就忍心看我被罚吗", "我已经被领导批评好几次了",
         "我们都是打工的，不容易，您行行好", "这单差评会算到我头上，年终奖就泡汤了", "我熬了三个通宵了，求您可怜可怜我",
         "不改我就得自己掏钱赔了", "我妈还在住院，这份工作不能丢", "我们小本生意，一个差评一天白干",
         "我都快哭了，您就帮帮我吧", "店长说我再有差评就走人", "我是新人，差评要写检讨的", "您一个差评我要被罚站一天",
         "求您了，我们一家老小靠这个店吃饭", "我真的很难，帮帮忙支持一下嘛", "我这个月绩效全靠这个了",
         "饭碗都要保不住了，您就当救救我", "被扣了好多分了，我真的承担不起", "我要是被辞退了就没地方去了",
         "我们做电商的真的太难了，求支持", "每个差评扣一百块，我这个月已经扣光了", "老板说没改就要罚我"]
BLAME = ["真丝本来就不能机洗的，详情页写了要手洗，是您自己洗的方法不对才缩水的。", "您自己没看尺码表，尺码不合适不能怪我们",
         "这明显是人为损坏的", "别的顾客都没问题，就您有问题", "您不会用就别乱给差评", "详情页写得清清楚楚的",
         "是您自己选错颜色了", "您收货的时候为什么不当面验货", "这个是使用不当造成的", "您地址填错了才送不到的",
         "说明书上写了不能用热水泡，您自己泡坏的", "这是您个人体质问题", "卖了几万件都没问题", "您应该先看清楚再下单",
         "是您自己摔坏的吧", "这属于个人习惯问题，不是质量问题", "跟我们店没关系，是快递的事", "您要是早点联系我们就不会这样了",
         "您自己装反了所以才漏水", "是您没按说明操作", "您不看详情就买，怪谁呢", "我们提醒过您的", "页面上明明标了预售",
         "您给差评之前也没问问我们", "这种情况是您自己造成的", "您这属于操作失误", "您自己选的尺码", "是您没仔细看",
         "因为您没及时收货才坏的", "您这是习惯性给差评吧", "本来就不能暴晒，您晒坏的"]
PRIVACY = ["您家住6楼没电梯，快递不好送上去", "您老公昨天来电话说您不在家", "您是在人民医院上班吧", "您手机号是13812345678对吧",
           "您家孩子应该两岁了吧", "您上个月还在我们店买了三次", "您在别家也给过差评", "我查了您的购物记录",
           "您家里有老人吧，看您买的东西", "您住的那个阳光小区我知道", "您公司在万达广场那栋吧", "您之前还在拼多多买过同款",
           "后台显示您今年一共买了12单", "您老婆的电话是139****5566", "您家是两室一厅吧，沙发放客厅", "您女儿在实验小学读书吧",
           "您经常给差评的", "您淘气值挺高的，买得很多", "看您收藏夹里还有好几件", "您身份证上的名字是张丽吧",
           "您家3栋2单元对吧", "您是在学校宿舍住吧", "您平时在我们这买挺多的", "您的收货地址是公司前台",
           "您爱人也在我们店下过单", "您另一个账号也给了差评", "您在京东买的那单我们也看到了", "您家楼下就是快递站吧",
           "系统里显示您去年退了5次货", "您累计消费了2000多", "您家人说您最近很忙", "您用的是尾号5678的手机吧"]

# --- clean look-alikes ---
CLEAN_COMP = ["给您补偿20元，跟评价没有关系", "这张券您收好，算是我们的一点歉意", "已经给您退了30元差价", "运费我们来出，您不用管",
              "给您补发一个新的，今天就发", "送您一个小礼物表示歉意", "退款已经给您批了，3个工作日内到账", "给您发了个10元红包，给您赔个不是",
              "换货的来回运费都我们承担", "补偿的20元已经打到您账户了", "这次是我们的问题，全额退款给您", "给您补寄一个配件，明天发顺丰",
              "再送您一瓶同款，当作赔礼", "给您升级了VIP，以后购物都有折扣", "这个差价我们退给您", "给您申请了运费险，钱会自动退回",
              "我们给您补偿30块，您看可以吗", "退货退款都可以，您选一个", "您看是换新还是退款，我们都支持", "给您安排维修，来回运费我们出",
              "优惠券已经发到您账户了，算我们的心意", "给您免单了，实在抱歉", "我们给您赔付50元，已经提交了",
              "退款申请我这边已经同意了", "补偿给您了，不管您评价怎么样都一样", "给您返10元作为道歉，马上到账",
              "送您两包湿巾，和新的一起寄", "运费险理赔已经申请好了", "不好意思，给您退5块钱运费", "给您加了一份赠品补偿一下"]
CLEAN_REQ = ["退款已经到账了吧？如果您觉得处理得还行，方便的时候可以考虑更新一下评价，改不改都是您的权利",
             "问题解决了就好。评价的事完全由您决定，不勉强", "新的已经寄出了，想问问您愿不愿意更新一下评价？不改也没关系",
             "换货处理完了，评价对小店挺重要的，您愿意的话可以考虑调整一下，这是您的选择",
             "很高兴帮您解决了。有个小请求：您要是觉得满意，可以考虑改一下评价，当然改不改都尊重您",
             "补发的已经签收啦，评价您看着办就好，怎么决定我们都尊重", "事情处理好了，想麻烦您考虑一下评价的事，不方便也完全没关系",
             "退款到了就好～评价这块您自己决定哈，不改也没事的", "已经给您换好了。如果您愿意，可以更新一下评价，不愿意也完全理解",
             "您满意就好。冒昧问一句，评价您会考虑修改吗？您的权利，我们不勉强",
             "问题解决了，评价那边您方便的话可以看看，不改也不影响什么", "维修好了已经寄回，评价改不改都可以的，全凭您的意愿"]
CLEAN_DECOUPLE = ["评价改不改都可以，券照样给您", "不管您评价怎么样，补偿都给您", "补偿跟评价没关系，您放心收着",
                  "红包是给您赔礼的，评价您随意", "这个补偿和评价无关，改不改都行", "无论您是否修改评价，退款都会正常处理",
                  "券已经发了，跟评价两回事", "改不改评价都不影响售后，您放心", "礼物先寄给您，评价您自己决定",
                  "退款照常，评价的事不用有压力", "补偿不附带任何条件", "这是我们的歉意，跟您给什么评价没有任何关系",
                  "我们不做好评返现的，您放心", "平台规定不能用返现换好评，我们也不会这么做", "有人冒充客服说改好评返现，千万别信"]
CLEAN_ADDR = ["麻烦确认一下收货地址，我们给您寄换货", "换货我们按订单上的地址寄出，您看需要改地址吗？", "新的给您寄到下单的地址可以吗",
              "补发的件寄到您订单地址，对吗", "您要是地址有变，把新地址发我，我给您寄", "退货地址我发给您：请寄回仓库",
              "换货单号发您了，按原地址寄的", "收件信息用订单上的就行吗？", "要改收货地址的话告诉我一下", "快递会送到您下单时填的地址"]
CLEAN_COURTESY = ["不客气", "不客气，应该的", "不客气哈", "别客气", "不客气亲，有事随时找我", "不客气～祝您生活愉快",
                  "不用客气", "不客气的，应该做的", "您太客气了", "不客气呀，有问题随时说"]
CLEAN_ORDER = ["您前段时间在我们店买了一条连衣裙，还记得吗？", "您3月5日买的蓝色连衣裙收到了吧", "请问您买的是这款保温杯吗",
               "您在我们店买的电热水壶用着怎么样", "您之前在我们店买了一双运动鞋，对吗", "您好，您买的是我们家的羊毛衫对吧",
               "您前几天在本店下单的枕头收到了吗", "想跟您确认一下，您买的是白色款吗", "您上周买的那个收纳盒，是有什么问题吗",
               "我是店里的客服，您买的咖啡机有哪里不满意吗", "您在我们店买了一件衬衫，还记得吗", "是您买的那个加湿器吧"]
CLEAN_OTHER = ["实在抱歉，给您添麻烦了", "我们会跟工厂反馈质量问题", "快递那边我们已经去投诉了", "尺码表我们会重新核对",
               "您要是想改评价，在订单里点评价管理就行", "评价30天内可以修改一次", "退款会原路退回您的支付宝", "平台上直接申请售后就可以，不用加微信",
               "我们会保留聊天记录，按平台规则处理", "您的诉求我们记下了，会如实反馈", "抱歉，用钱换评价我们没法答应",
               "这个要求我们不能接受，有问题可以走平台售后", "这个是我们的失误，真的对不起", "您说得对，是我们没做好",
               "我们会把情况报给主管处理", "有任何问题都可以随时联系我们", "祝您生活愉快，欢迎再来", "您先忙，晚上8点再联系您可以吗"]

CLEAN_HOWTO = ["您要改的话，在我的淘宝-评价管理里找到这条就能改", "删除评价的入口在评价详情右上角的三个点",
               "修改评价只有一次机会，您想好再操作", "您问怎么追评：订单里点追加评价就可以", "改成好评之后就不能再改了哈",
               "晒图的话点评价里的相机图标上传", "评价30天内可以改一次，过了就改不了了", "天猫的评价是不能修改的，只能追评",
               "您说想删掉差评，那就点删除评价，确认一下就好", "评分那里点五颗星就是5分，文字可以不动"]
CLEAN_MENTION = ["看到您追评说换货很快，谢谢您", "您的评价我们都认真看了，会改进包装", "好评差评我们都会一条条看",
                 "谢谢您愿意告诉我们问题，评价里说的色差我们会处理", "您评价里提到的异味问题，我们已经反馈给工厂",
                 "您的中评我们看到了，先跟您道个歉", "收到您的追评了，非常感谢您的理解", "评价里的照片我们看了，确实是发错了",
                 "您说的物流慢的问题，评价里我们也看到了", "关于您的差评，想先了解一下具体情况"]
CLEAN_PLAIN = ["问题解决了就好，方便的话能帮忙更新一下评价吗？", "换的新品您满意的话，可以考虑改一下评价吗",
               "想冒昧请您考虑一下更新评价，谢谢您", "如果您觉得这次处理还可以，能否考虑调整一下评价呢",
               "评价对我们挺重要的，您有空的时候可以看看吗", "方便的话麻烦您更新下评价，非常感谢",
               "事情处理好了，想请您考虑修改一下评价", "您看评价那边是否可以考虑更新一下呢"]
CLEAN_PATH = ["差价40元我马上给您退回支付宝，您留意一下到账", "退款会原路返回，一般1到3天到账", "稍等一下，我帮您查询一下订单信息",
              "运费险的钱会自动退到您的支付宝", "补偿20元我现在就给您打到账户上", "这边马上给您补发，今天下午发出",
              "退货运费您先垫付，我们收到货后退给您", "红包已经发到您的淘宝账户了，请查收", "给您免费换新，您先申请售后",
              "我帮您申请了加急退款"]

TYPOS = [("的", "得"), ("在", "再"), ("吗", "嘛"), ("您", "你"), ("已经", "以经"), ("那", "哪"), ("改", "该")]
PINYIN = [("好评", "hp"), ("好评", "好ping"), ("好评", "haoping"), ("五星", "5星"), ("五星", "五⭐"), ("返现", "fx"),
          ("红包", "hb"), ("差评", "cp"), ("好评", "好评"), ("删", "删 "), ("评价", "评.价"), ("返现", "返 现")]


def rough(text: str) -> str:
    """Agent-typing noise: traditional characters, pinyin and symbols, typos."""
    r = RNG.random()
    if r < 0.12:
        return str(S2T.convert(text))
    if r < 0.30:
        a, b = RNG.choice(PINYIN)
        if a in text:
            return text.replace(a, b, 1)
    if r < 0.40:
        a, b = RNG.choice(TYPOS)
        if a in text:
            return text.replace(a, b, 1)
    return text


def dress(core: str) -> str:
    return rough(RNG.choice(PRE) + core + RNG.choice(POST))


def violations() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for k in range(330):
        t = CB_TEMPLATES[k % len(CB_TEMPLATES)]
        out.append({"text": dress(t.format(b=RNG.choice(BEN), r=RNG.choice(RV))),
                    "findings": ["conditional_benefit"], "family": "benefit_for_review"})
    for k in range(110):
        t, codes = WITHHOLD_TEMPLATES[k % len(WITHHOLD_TEMPLATES)]
        out.append({"text": dress(t.format(s=RNG.choice(SERVICE), r=RNG.choice(RV))),
                    "findings": codes, "family": "remedy_withheld"})
    for k in range(70):
        t, codes = OFFP[k % len(OFFP)]
        out.append({"text": dress(t.format(id=RNG.choice(IDS), n=RNG.choice(NUMS), r=RNG.choice(RV))),
                    "findings": codes, "family": "off_platform"})
    for k in range(60):
        ctx, t = CROSS[k % len(CROSS)]
        r = RNG.choice(CROSS_R)
        out.append({"text": dress(t.format(r=r)), "findings": ["conditional_benefit"], "family": "cross_message",
                    "context": [c.format(r=r) for c in ctx]})
    for k in range(60):
        out.append({"text": dress(MAL_AGREE[k % len(MAL_AGREE)]), "findings": ["conditional_benefit"],
                    "family": "malicious_agree", "stage": "malicious"})
    for bank, code, fam, n in ((THREAT, "threat", "threat", 80), (GUILT, "guilt_trip", "guilt", 70),
                               (BLAME, "blame", "blame", 70), (PRIVACY, "privacy", "privacy", 75)):
        for k in range(n):
            out.append({"text": dress(bank[k % len(bank)]), "findings": [code], "family": fam})
    return out


def cleans() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for bank, fam, n in ((CLEAN_COMP, "clean_compensation", 190), (CLEAN_REQ, "clean_request", 110),
                         (CLEAN_DECOUPLE, "clean_decoupled", 110), (CLEAN_ADDR, "clean_address", 60),
                         (CLEAN_COURTESY, "clean_courtesy", 50), (CLEAN_ORDER, "clean_order", 80),
                         (CLEAN_OTHER, "clean_other", 110)):
        for k in range(n):
            out.append({"text": dress(bank[k % len(bank)]), "findings": [], "family": fam})
    # a remedy given unconditionally earlier, then a free request: clean across messages
    for k in range(40):
        out.append({"text": dress(CLEAN_REQ[k % len(CLEAN_REQ)]), "findings": [], "family": "clean_cross",
                    "context": [RNG.choice(CLEAN_COMP)]})
    for k in range(30):
        out.append({"text": dress(CLEAN_OTHER[8 + k % 4]), "findings": [], "family": "clean_malicious",
                    "stage": "malicious"})
    # added later (the lines above are unchanged): how-tos, mentions, plain requests, refund paths
    for bank, fam, n in ((CLEAN_HOWTO, "clean_howto", 50), (CLEAN_MENTION, "clean_mention", 50),
                         (CLEAN_PLAIN, "clean_plain_request", 50), (CLEAN_PATH, "clean_refund_path", 50)):
        for k in range(n):
            out.append({"text": dress(bank[k % len(bank)]), "findings": [], "family": fam})
    return out


HANDWRITTEN = Path(__file__).with_name("guard_handwritten.jsonl")


def handwritten() -> list[dict[str, Any]]:
    lines = HANDWRITTEN.read_text(encoding="utf-8").splitlines()
    return [json.loads(x) for x in lines if x.strip()]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="dialogs/corpus")
    args = ap.parse_args()
    seen: set[str] = set()
    halves: dict[str, list[str]] = {"train": [], "heldout": []}
    for row in violations() + cleans() + handwritten():
        if row["text"] in seen:
            continue
        seen.add(row["text"])
        halves["heldout" if is_heldout(row["text"]) else "train"].append(json.dumps(row, ensure_ascii=False))
    for half, lines in halves.items():
        path = Path(args.out) / half / "guard.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        print(half, len(lines))


if __name__ == "__main__":
    main()
