"""Traditional characters folded to simplified, for the words buyers use in after-sales.

Buyers in Hong Kong and Taiwan (and some elsewhere) type traditional characters;
the training messages are simplified. Folding the common ones (a few hundred
characters of shopping, shipping and complaint words, not a full converter)
lets the same n-grams match.
"""

from __future__ import annotations

_TRADITIONAL = (
    "貨請問換顏歡沒現發麼時謝幫幾適嗎裝壞錯運費單號購買賣碼給還這個們樣為點讓說話認識東來過會應該與處辦紅綠藍黃長開關門間種質"
    "優紙對準確實寶貝親愛務員訂寫錢銷傳遞郵達簽態騙氣爛髒斷損壓變顯麗襪褲機電燈鍵盤鏡錶壺鍋飯書筆廣島灣區縣鄉鎮樓稅專業頭戶帳"
    "據經價額滿減禮贈試緊鬆寬輕舊櫃倉庫遲週後從團隊難歸啟動聲響聽見覺無條線縫鈕鏈鍊膠網頁圖際產級錄當鹹麵雞飲內約則總結傷險賠"
    "償補帶擔負責題煩譜憤罵滾瘋擾訴報師場裡邊塊隻雙組臺鬧歲孫媽爺兒嬰車輛飛鐵綫衛纖絨絲寵糧藥醫療護膚髮臉顆張雜誌顧戲遊樂鐘誤備檢驗測廠製鮮蟲黴"
)
_SIMPLIFIED = (
    "货请问换颜欢没现发么时谢帮几适吗装坏错运费单号购买卖码给还这个们样为点让说话认识东来过会应该与处办红绿蓝黄长开关门间种质"
    "优纸对准确实宝贝亲爱务员订写钱销传递邮达签态骗气烂脏断损压变显丽袜裤机电灯键盘镜表壶锅饭书笔广岛湾区县乡镇楼税专业头户账"
    "据经价额满减礼赠试紧松宽轻旧柜仓库迟周后从团队难归启动声响听见觉无条线缝钮链链胶网页图际产级录当咸面鸡饮内约则总结伤险赔"
    "偿补带担负责题烦谱愤骂滚疯扰诉报师场里边块只双组台闹岁孙妈爷儿婴车辆飞铁线卫纤绒丝宠粮药医疗护肤发脸颗张杂志顾戏游乐钟误备检验测厂制鲜虫霉"
)
TO_SIMPLIFIED = str.maketrans(_TRADITIONAL, _SIMPLIFIED)
