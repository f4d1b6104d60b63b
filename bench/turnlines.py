"""The turns every load in bench/ posts, in this order, to each conversation: an identity
check, a colour complaint in traditional Chinese, an apology and a one-word reply."""

LINES = [("agent", "您好，请问是周女士吗？我是柚子家女装的售后客服小林。"), ("buyer", "是我，您说"),
         ("agent", "您3月2号在我们店拍的那条湖蓝色碎花连衣裙，还有印象吗？"),
         ("buyer", "記得，顏色跟圖片差好多，圖上是清清爽爽的湖藍，到手發灰發暗，我很失望"),
         ("agent", "真的很抱歉，满心期待结果颜色不对，换成我也会失望的。"), ("buyer", "嗯")]
