"""Keep the script library (话术): the default words for each technique, rendering and saving.

A script is what a collector, housekeeper or gate guard says, with {placeholders} filled in for
the case at hand. Owner-facing call scripts follow the skeleton of seed 000 with section headers
in the body: 【开场】 who I am, understanding → 【事实】 amount, months, what the fee pays for →
【方案】 instalments, late-fee waiver if paid this month → 【承诺】 a firm date, a payment link,
"I'll remind you the day before". Lines in （提示：…） are for the collector, not to be read out.

Placeholders (the only ones a script may use):

    {owner_name}     the owner as addressed: 王小明 / 王先生
    {room}           the unit as staff say it: 3栋1单元1201
    {community}      the community (小区): 阳光花园
    {company}        the property-management company: 示范物业
    {company_phone}  the service centre's telephone
    {collector}      the responsible staff member's real name (roles.staff_name), never a login
    {collector_phone} their office phone and extension, else the service centre's telephone
    {amount}         everything owed: principal + late fee, in yuan
    {principal}      the unpaid property fees, in yuan
    {late_fee}       the late fee (违约金) by the contract, in yuan
    {months}         months in arrears
    {oldest_due}     due date of the oldest unpaid charge
    {due_date}       the deadline of this step: the day a letter goes out, a letter's reply deadline
    {payment_link}   the owner's statement and online-payment link
    {promise_date}   the date the owner agreed to pay (or the first instalment's date)

Never in a script (DESIGN.md §2, §3): threats, deception, anything about cutting water, power,
heating or gas (民法典第944条), or a word of the debt said to anyone but the owner. A neutral
script may be said to a third party, so it passes `rules.validate_neutral_text`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from django.db import transaction
from django.utils.translation import (
    gettext_noop as N_,  # titles are stored; pages show them through gettext
)

from arrears.collection import rules
from arrears.collection.models import Channel, Script
from arrears.core.errors import DomainError

PLACEHOLDERS = {
    "owner_name": ("业主称呼", "the owner as addressed"),
    "room": ("房号", "the unit"),
    "community": ("小区", "the community"),
    "company": ("物业公司", "the property-management company"),
    "company_phone": ("服务中心电话", "the service centre's telephone"),
    "collector": ("管家姓名", "the collector's name"),
    "collector_phone": ("管家电话（含分机）", "the collector's phone and extension"),
    "amount": ("欠费合计（元）", "everything owed, in yuan"),
    "principal": ("欠费本金（元）", "unpaid fees, in yuan"),
    "late_fee": ("违约金（元）", "late fee, in yuan"),
    "months": ("欠费月数", "months in arrears"),
    "oldest_due": ("最早欠费到期日", "oldest unpaid due date"),
    "due_date": ("本步骤期限日", "the deadline of this step"),
    "payment_link": ("缴费链接", "statement and payment link"),
    "promise_date": ("约定缴费日期", "the date the owner agreed to pay"),
}

# A filled-in context for previews and tests: every placeholder has a value.
EXAMPLE_CONTEXT = {
    "owner_name": "王先生",
    "room": "3栋1单元1201",
    "community": "阳光花园",
    "company": "示范物业",
    "company_phone": "021-55550000",
    "collector": "李明",
    "collector_phone": "021-55550000 转 8012",
    "amount": "1236.40",
    "principal": "1200.00",
    "late_fee": "36.40",
    "months": "6",
    "oldest_due": "2025-12-05",
    "due_date": "2026-06-01",
    "payment_link": "https://pay.example.cn/s/Ab3dE",
    "promise_date": "2026-05-20",
}

SKELETON = ("【开场】", "【事实】", "【方案】", "【承诺】")

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
_CODE_MAX = Script._meta.get_field("code").max_length
_TITLE_MAX = Script._meta.get_field("title").max_length


def _script(code, title, technique, channel, body, *, neutral=False) -> dict:
    return {"code": code, "title": title, "technique": technique, "channel": str(channel), "neutral": neutral,
            "body": body.strip()}


DEFAULT_SCRIPTS: list[dict] = [
    _script("reminder_call", N_("适时提醒：电话提醒"), 1, Channel.CALL, """
【开场】
{owner_name}您好，我是{community}物业服务中心的{collector}，耽误您一两分钟。知道您平时工作忙，这类小事很容易顾不上，所以特意打个电话跟您说一声。
【事实】
您家{room}从{oldest_due}起的物业费还没有办理，一共{months}个月：物业费{principal}元，按合同计的违约金{late_fee}元，合计{amount}元。这笔钱用在小区的保洁、绿化、秩序维护，以及电梯、水泵、门禁等公共设施的日常运行和维修上。
（提示：说完数字停一停，问业主对账单有没有疑问，认真听。）
【方案】
一次办理不方便的话您跟我说，可以分几个月缴；本月内缴清的，违约金我可以帮您申请减免。
【承诺】
您看哪天方便？我们定一个具体日期。缴费链接{payment_link}我发到您手机上，手机上就能缴，也可以到服务中心办理。约定日期的前一天我再提醒您一次。账单有任何疑问，随时打服务中心电话{collector_phone}找我。谢谢您！
"""),
    _script("promise_call", N_("断其后路：约定日期"), 2, Channel.CALL, """
【开场】
{owner_name}您好，我是{community}物业服务中心的{collector}。上次您说会抽空来办理物业费，一直没等到您，想着您可能太忙了，所以再打电话跟您确认一下。
【事实】
您家{room}目前还有{months}个月的物业费没有办理，合计{amount}元（物业费{principal}元，违约金{late_fee}元），最早一笔是{oldest_due}到期的。
【方案】
为了不占用您的时间，您挑一个最省事的方式：一是手机上直接缴，我把链接发给您；二是银行转账，我把账户信息发给您；三是办理代扣，以后每月自动缴，不用再记着这件事。本月内缴清的，违约金我帮您申请减免；一次缴不方便的，也可以分几个月。
【承诺】
那我们就定在{promise_date}，您看可以吗？缴费链接{payment_link}我现在发到您手机上，{promise_date}的前一天我再提醒您一次。到时如果临时有事，麻烦您给我回个电话（{collector_phone}），我们再商量。
（提示：业主说“过两天”“有空就去”时，温和地追问一个具体日期和金额，当场在系统中记录承诺。）
"""),
    _script("sympathy", N_("苦肉计：真诚请业主支持"), 3, Channel.CALL, """
（提示：只用于欠费时间短、平时关系融洽的业主；业主易激动时不用。只说真实的情况，不编造处分、扣薪之类并不存在的困难。）
【开场】
{owner_name}您好，我是{collector}。平时多亏您照顾，有事找您您都很配合，真的谢谢您。
【事实】
今天给您打电话，想跟您说几句心里话。您家{room}还有{months}个月的物业费、合计{amount}元没有办理。我负责的这几栋楼，物业费的收缴情况是我每个月的工作考核，每次例会我都要说明进展，心里确实挺着急的。小区的保洁、安保、绿化和维修，也都靠大家的物业费支撑着。
【方案】
我也知道谁家都有难处。一次办理不方便的话，可以分几个月缴；本月内缴清的，违约金我帮您申请减免。
【承诺】
您看能不能帮我这个忙，我们定个日子？我把缴费链接{payment_link}发给您，约定日期的前一天我再提醒您。有什么需要我做的，打{collector_phone}找我就行。太感谢您了！
"""),
    _script("neutral_third_party", N_("地毯搜索：请第三方转告回电"), 4, Channel.CALL, """
（提示：用于业主亲属、单位、房屋中介、租户或开发商登记的联系人。只请对方转告业主回电，不说明具体事项，不提任何数字；对方不愿转告时礼貌致谢，结束通话。）
【开场】
您好，打扰您了。我是{company}{community}物业服务中心的{collector}。
【请托】
我们有一些房屋服务方面的事情，需要与{owner_name}本人沟通，最近一直没能联系上。如果您方便联系到{owner_name}，麻烦您转告一声，请其抽空回电物业服务中心：{company_phone}。
【说明】
具体事项需要与本人沟通，不便向您细说，还请您谅解。
【致谢】
非常感谢您的帮助，祝您生活愉快，再见。
""", neutral=True),
    _script("common_front", N_("统一战线：整改户"), 5, Channel.CALL, """
（提示：打电话前先打开该户未办结的整改工单，了解处理进度、责任方和预计完成时间；没有把握的事不作承诺。）
【开场】
{owner_name}您好，我是{community}物业服务中心的{collector}。您家{room}报的整改问题我们一直记着，今天打电话，一是跟您通报一下进展，二是想和您商量物业费的事。
【事实】
整改这边的进展是：（如实说明工单进度和下一步安排）。同时也跟您说一下，您家目前有{months}个月的物业费没有办理，合计{amount}元。房子的问题还没解决，换作谁心里都不舒服，这个我们完全理解；不过小区公共区域的保洁、安保和设施维护每天都在进行，这部分是全体业主共同分担的。
【方案】
在整改这件事上，我们和您站在一起，会继续督促开发商和施工方尽快处理，有进展第一时间告诉您。如果开发商或施工方就整改给您补偿，可以考虑把物业费在补偿里一并结清，我们可以协助您和对方沟通。本月内缴清的，违约金我帮您申请减免。
【承诺】
您看我们先约个日子，定在{promise_date}可以吗？缴费链接{payment_link}我发给您，前一天我再提醒您一次。整改的事您随时打{collector_phone}问我。
"""),
    _script("sugar_coat", N_("糖衣炮弹：先解决不愉快"), 6, Channel.VISIT, """
（提示：用于以前有过误会或不愉快经历的业主。先处理投诉：逐条记下业主的意见，能当场解决的当场解决，不能的在系统中建工单并告知办理时限；投诉处理好之前不谈缴费。）
【开场】
{owner_name}您好，我是{community}物业服务中心的{collector}。之前那件事让您不愉快了，我代表服务中心再次向您道歉。今天过来，主要是想听听您现在还有哪些不满意的地方。
【事实】
您上次反映的问题，我们已经处理好了：（说明处理结果，请业主确认是否满意）。另外也跟您说一下，您家{room}还有{months}个月的物业费没有办理，合计{amount}元。
【方案】
一次办理不方便的话可以分几个月，本月内缴清的违约金我帮您申请减免。以后您家有什么需要，直接找我：报修我优先安排，小区有业主活动我也提前邀请您。
【承诺】
您看哪天方便办理？我们定个日子，缴费链接{payment_link}我发给您，前一天我再提醒您。有事随时打{collector_phone}找我。
"""),
    _script("front_desk_polite", N_("全民总动员：前台、门岗、车管当面提醒"), 7, Channel.FRONT_DESK_FLAG, """
【什么时候说】
只在见到业主本人、而且身边没有其他人能听到时说。业主有访客或家人同行、正在打电话或赶时间时，只微笑问好，今天不提。
【怎么说】
{owner_name}您好！耽误您半分钟：服务中心的{collector}这几天想找您，有点物业费的事想跟您确认一下，您方便的时候到服务中心坐坐，或者给他回个电话：{company_phone}。谢谢您，您慢走！
【业主追问时】
具体情况我这边不太清楚，{collector}会跟您细说，您放心。
【不要做】
不说金额，不在大堂、电梯口、道闸或车场当众提起；不拦人，不拦车，不限制出入；语气和平时问好一样。
【之后】
在系统中记下提醒的时间和地点。
"""),
    _script("visit_reminder", N_("适时提醒：上门拜访"), 1, Channel.VISIT, """
（提示：在策略规定的联系时段内上门，佩戴工牌；只与业主本人谈，不在门口当着邻居说；带上打印好的账单。）
【开场】
{owner_name}您好，我是{community}物业服务中心的{collector}，这是我的工牌。打扰您几分钟，也顺便看看您家最近有没有需要我们帮忙的地方。
【事实】
这是您家{room}的账单，请您过目：从{oldest_due}起共{months}个月，物业费{principal}元，违约金{late_fee}元，合计{amount}元。这些钱用在小区的保洁、绿化、秩序维护和公共设施维修上。您对哪一笔有疑问，我们现在就一起核对。
【方案】
一次办理不方便的话，可以分几个月；本月内缴清的，违约金我帮您申请减免。
【承诺】
您看哪天方便？我们定个日子。缴费链接{payment_link}我发到您手机上，扫码就能缴；约定日期的前一天我再提醒您。有事打{collector_phone}找我。
（提示：无论结果如何都感谢业主；回去后在系统中记录拜访时间和结果，业主签收的账单拍照上传。）
"""),
    _script("letter_heads_up", N_("催费函前私下告知"), 8, Channel.CALL, """
（提示：寄出催费函之前先私下告知，不让业主感到突然；语气平和，这是公司的正常流程，不是威胁。）
【开场】
{owner_name}您好，我是{community}物业服务中心的{collector}。今天打电话，是想先私下跟您说一声，免得您收到信件时觉得突然。
【事实】
您家{room}的物业费已经有{months}个月没有办理，合计{amount}元（物业费{principal}元，违约金{late_fee}元）。按公司的工作流程，到这个阶段服务中心会给业主寄一份书面的《催费函》，列明账单明细和缴费方式，计划在{due_date}寄出。
【方案】
如果在寄出之前缴清，这封函就不会再寄给您了。一次缴不方便的话，也可以先跟我约好分几个月缴；本月内缴清的，违约金我帮您申请减免。
【承诺】
您看能不能定在{promise_date}办理？缴费链接{payment_link}我发给您，前一天我再提醒您。账单有疑问随时打{collector_phone}找我，我们一起核对。
"""),
    _script("education_neglectful", N_("忽视型业主：讲清物业费的用途和义务"), None, Channel.CALL, """
（提示：用于不重视缴费、不了解物业费用途的业主。讲道理不说教，语气平和，多问业主的看法。）
【开场】
{owner_name}您好，我是{community}物业服务中心的{collector}。可能平时我们跟您沟通得不够，今天想花几分钟跟您聊聊物业费的事。
【事实】
您家{room}有{months}个月的物业费没有办理，合计{amount}元。物业费主要用在这几方面：保洁和垃圾清运、绿化养护、门岗和巡逻、电梯水泵消防等公共设施的运行维修、公共区域的保险，以及服务人员的工资。按照《民法典》第九百四十四条，业主应当按照物业服务合同的约定支付物业费；物业公司按约定提供了服务，业主不能以没有使用或者不需要某项服务为由不缴。这是全体业主共同的约定，大家都缴，小区才能维持好。
【方案】
一次办理不方便的话，可以分几个月缴；本月内缴清的，违约金我帮您申请减免。您对我们的服务有什么意见，也请直接告诉我，我们改进。
【承诺】
您看哪天方便办理？我们定个日子。缴费链接{payment_link}我发给您，前一天我再提醒您。有疑问随时打{company_phone}。
"""),
    _script("plan_offer", N_("理解型业主：分期方案"), None, Channel.CALL, """
（提示：用于愿意缴、但一时有经济困难的业主。先听业主说困难，表示理解，再给方案。）
【开场】
{owner_name}您好，我是{community}物业服务中心的{collector}。上次听您说最近手头比较紧，我们很理解，特地给您打电话商量一个不让您为难的办法。
【事实】
您家{room}目前有{months}个月的物业费没有办理：物业费{principal}元，违约金{late_fee}元，合计{amount}元。
【方案】
物业费{principal}元可以分 3 到 6 个月缴，每月缴一部分，您看每月多少比较合适；分期按期缴完的，违约金{late_fee}元可以申请全部减免。分期方案要您确认后才生效，我会把每期的日期和金额发给您。
【承诺】
第一期定在{promise_date}，您看可以吗？缴费链接{payment_link}我发给您，每期到期前一天我都提醒您。情况有变化随时打{collector_phone}跟我说，我们再调整。
"""),
    _script("three_warnings", N_("通话中遇辱骂：三次提醒"), None, Channel.CALL, """
（提示：用于业主在通话中辱骂或人身攻击时。始终保持平和，不争辩，不回骂，语速不变。）
【第一次提醒】
{owner_name}，我理解您现在很生气，您有什么不满都可以跟我说，我会如实记录并反馈。不过请您不要用侮辱性的语言，这样我们才能把事情说清楚。
【第二次提醒】
{owner_name}，这是我第二次提醒您：请不要再用侮辱性的语言。如果继续这样，我只能先结束这次通话，改天再跟您联系。
【第三次提醒】
{owner_name}，这是第三次提醒。很抱歉，今天的通话只能先到这里。您的意见我已经记下了，您愿意的话，随时可以打服务中心电话{company_phone}，我们会认真处理。祝您生活顺利，再见。
【结束之后】
等对方先挂断，或停顿几秒后再挂断。在系统中如实记录通话时间、三次提醒的时间和对方意见的要点，有录音的上传录音；报告主管，由主管决定下一步由谁、用什么方式联系。
"""),
    _script("after_payment_follow_up", N_("缴费后回访"), None, Channel.CALL, """
（提示：每次缴费结案后都要回访。）
【致谢】
{owner_name}您好，我是{community}物业服务中心的{collector}。您家{room}的物业费已经收到了，特地打电话谢谢您的支持！
【肯定】
您这次及时办理，是对小区工作最实在的支持，保洁、绿化、维修的同事都能感受到。
【回访】
也想借这个机会听听您的意见：最近对我们的服务满意吗？保洁、安保、维修和我们管家的工作，您觉得哪些地方还可以做得更好？
（提示：认真听，不打断；不满意的地方当场记下，在系统中建工单跟进，并告诉业主办理时限。）
【结束】
以后有任何需要，直接打{collector_phone}找我。祝您生活愉快！
【记录】
在系统中记录业主评价（满意、一般、不满意）和意见。
"""),
    _script("service_fix_first", N_("抗拒型业主：先解决投诉"), None, Channel.CALL, """
（提示：用于对服务有意见、工单还没有办结的业主。工单办结、业主确认满意之前，不谈缴费，不提金额；先把问题解决好。）
【开场】
{owner_name}您好，我是{community}物业服务中心的{collector}。您家{room}反映的问题给您添麻烦了，我代表服务中心向您道歉。今天联系您，就是想把这件事了解清楚，尽快处理好。
【倾听】
您看现在具体是什么情况？从什么时候开始的？之前我们是怎么处理的，哪些地方让您不满意？
（提示：认真听，不打断，不辩解；逐条记下业主的意见。）
【处理】
这件事由我负责跟进：能当场解决的，我现在就安排；需要维修或协调的，我在系统里建工单，告诉您由谁来办、什么时候办完。
【回访】
处理过程中有进展，我第一时间告诉您；办完之后我再联系您，请您确认是否满意。这期间有任何问题，直接打服务中心电话{collector_phone}找我。
【记录】
在系统中记录业主的意见、工单编号和答应业主的办理时限，按时限跟进。
"""),
    _script("resistant_duty", N_("抗拒型业主：问题解决后讲清合同义务"), None, Channel.CALL, """
（提示：用于对服务有意见、但反映的问题已经办结的业主；还有未办结工单的，先用“先解决投诉”话术。讲合同和法律时只陈述事实，语气平和，不争辩。）
【开场】
{owner_name}您好，我是{community}物业服务中心的{collector}。您之前反映的问题我们已经处理完了，想先听听您对处理结果是否满意；还有不到位的地方，您直接告诉我。
【事实】
另外跟您沟通一下物业费的事：您家{room}从{oldest_due}起有{months}个月的物业费没有办理，合计{amount}元（物业费{principal}元，违约金{late_fee}元）。物业服务合同是全体业主和物业公司共同的约定，按照《民法典》第九百四十四条，业主应当按照约定支付物业费；对服务有意见，可以随时向我们提出、要求整改，但不能以此作为不缴物业费的理由。经书面催交仍未缴纳的，物业公司可以依法通过诉讼主张，这是我们都不希望走到的一步。
【方案】
服务上的事我们会继续改进，您有意见随时找我。一次办理不方便的话，可以分几个月缴；本月内缴清的，违约金我帮您申请减免。
【承诺】
您看我们定在{promise_date}办理可以吗？缴费链接{payment_link}我发给您，前一天我再提醒您一次。有任何问题打{collector_phone}找我。
"""),
    _script("evasive_contact", N_("逃避型业主：多渠道联系，留存证据"), None, Channel.CALL, """
（提示：用于有意躲避、长期联系不上的业主。电话打不通时，在策略规定的联系时段和次数以内换用短信、微信、上门；每一次联系，无论接通与否，都在系统中如实记录时间、渠道、号码和结果，通话录音、上门照片、签收回执及时上传，这些都是日后的证据。通过亲友、单位、中介找业主时只用中性话术，不提欠费。）
【开场】
{owner_name}您好，我是{community}物业服务中心的{collector}。最近几次给您打电话、发短信都没联系上，想跟您确认一下以后怎么联系您最方便。
【事实】
您家{room}从{oldest_due}起有{months}个月的物业费没有办理，合计{amount}元（物业费{principal}元，违约金{late_fee}元）。
【方案】
您看以后用哪个电话、在哪个时间段联系您合适？我记下来，免得再打扰您。一次办理不方便的话，可以分几个月缴；本月内缴清的，违约金我帮您申请减免。
【承诺】
我们定个日子，{promise_date}可以吗？缴费链接{payment_link}我现在发到您手机上，前一天我再提醒您一次。您有事随时打{collector_phone}找我。
【记录】
挂断后在系统中记录通话结果和约定日期；业主给了新的号码或联系时间的，登记到联系方式中。
"""),
    _script("letter_follow_up", N_("函件静默期结束后跟进"), None, Channel.CALL, """
（提示：催费函送达 7 天后、静默期结束的第二天打这个电话。先确认业主收到了函件，再听业主的想法；不重复函件里的措辞，不施加压力。）
【开场】
{owner_name}您好，我是{community}物业服务中心的{collector}。前些天公司给您寄了一份《催费函》，想跟您确认一下您收到了没有，对里面的内容有没有疑问。
【事实】
函里列的是您家{room}从{oldest_due}起{months}个月的物业费明细，合计{amount}元（物业费{principal}元，违约金{late_fee}元）。您对哪一笔有疑问，我们可以一起逐笔核对；有异议的费用会先暂停追收，核实后再处理。
【方案】
一次办理不方便的话，可以分几个月缴；本月内缴清的，违约金我帮您申请减免。
【承诺】
您看定在{promise_date}办理可以吗？缴费链接{payment_link}我发给您，前一天我再提醒您一次。有任何问题打{collector_phone}找我。
"""),
    _script("lawyer_heads_up", N_("律师函前私下告知"), None, Channel.CALL, """
（提示：发律师函之前先私下告知，不让业主感到突然。只说明公司的工作流程，语气平和，这不是威胁；业主对账单有异议或提出实际困难的，如实记录，报主管再定是否发函。）
【开场】
{owner_name}您好，我是{community}物业服务中心的{collector}。今天打这个电话，是想先私下跟您说一声，免得您之后觉得突然。
【事实】
您家{room}从{oldest_due}起有{months}个月的物业费没有办理，合计{amount}元（物业费{principal}元，违约金{late_fee}元），此前寄给您的《催费函》您也已经收到了。按公司的工作流程，如仍不缴，公司将委托律师事务所向您发出律师函。
【方案】
在那之前办理的，就不需要再走这一步了。一次缴清不方便的，可以跟我约好分几个月缴；对账单有疑问的，我们一起逐笔核对。
【承诺】
您看能不能定在{promise_date}办理？缴费链接{payment_link}我发给您，前一天我再提醒您一次。有任何问题打{collector_phone}找我。
"""),
    _script("lawyer_letter_follow_up", N_("律师函期限届满后跟进"), None, Channel.CALL, """
（提示：律师函写明的期限届满后的第二天打这个电话；期限内不主动联系业主。语气平和，只说事实和办法，由业主自己做决定。期间业主已部分缴费或来电商量过的，先致谢，按实际情况说。）
【开场】
{owner_name}您好，我是{community}物业服务中心的{collector}。公司委托律师事务所给您发的律师函，写明的期限已经到了，我打电话想听听您的想法。
【事实】
目前您家{room}从{oldest_due}起还有{months}个月的物业费没有办理，合计{amount}元（物业费{principal}元，违约金{late_fee}元）。接下来公司的法务部门会审查这件事，决定是否按法律程序处理，这也是我们最不希望看到的。
【方案】
您对账单有疑问的，我们可以一起逐笔核对；一次缴清不方便的，现在商量分期也还来得及。
【承诺】
您看能不能定在{promise_date}办理？缴费链接{payment_link}我发给您，前一天我再提醒您一次。有任何问题打{collector_phone}找我。
"""),
    _script("lawyer_letter_notice", N_("律师函说明"), 9, Channel.CALL, """
（提示：律师函发出后 14 天内我们不主动联系业主；本话术用于业主收到律师函后来电或来访时。语气平和，只说事实和办法。）
【开场】
{owner_name}您好，我是{community}物业服务中心的{collector}，谢谢您打来电话。您收到的律师函，我跟您解释一下。
【事实】
这封函是公司委托律师事务所发出的书面通知，列明了您家{room}从{oldest_due}起{months}个月的物业费，合计{amount}元（物业费{principal}元，违约金{late_fee}元）。函中写明的期限是{due_date}，也就是发函之日起 14 天。如果期限内没有办理，也没有和我们商定方案，公司会按法律程序处理，这也是我们最不希望看到的。
【方案】
您对账单有疑问的，我们可以一起逐笔核对；有异议的费用会先暂停追收，核实后再处理。一次缴清不方便的，可以商量分期。
【承诺】
您看能不能在{due_date}之前，定在{promise_date}办理？缴费链接{payment_link}我发给您，前一天我再提醒您。有任何问题打{collector_phone}找我。
"""),
]


class _KeepUnknown(dict):
    """Fill what we know; leave an unknown placeholder visible, so a gap shows rather than breaks."""

    def __missing__(self, key):
        return "{" + key + "}"


def render_script(body: str, context: Mapping) -> str:
    """Fill the {placeholders} of a script; unknown ones stay as "{name}", stray braces as they are.

    Only plain {name} fields are formatted: every other brace is escaped first, so "{", "}",
    "{0}" or "{owner_name.__class__}" in staff-written text is shown, never evaluated.
    """
    pieces = []
    position = 0
    for match in _PLACEHOLDER.finditer(body):
        pieces.append(body[position:match.start()].replace("{", "{{").replace("}", "}}"))
        pieces.append(match.group(0))
        position = match.end()
    pieces.append(body[position:].replace("{", "{{").replace("}", "}}"))
    return "".join(pieces).format_map(_KeepUnknown(context))


def placeholders_in(body: str) -> list[str]:
    """The {placeholders} a text uses, in order of first use."""
    return list(dict.fromkeys(_PLACEHOLDER.findall(body)))


def check_script(*, code: str, title: str, body: str, neutral: bool, technique: int | None = None,
                 channel: str = "") -> None:
    """Refuse a script that would be wrong to save; the error's `code` names the offending field."""
    if not code or len(code) > _CODE_MAX or not _SLUG.match(code):
        raise DomainError(
            f"话术代码只能由字母、数字、下划线或连字符组成，且不超过 {_CODE_MAX} 个字符",
            f"a script code is letters, digits, underscores or hyphens, at most {_CODE_MAX} characters",
            code="script_code",
        )
    if not title.strip() or len(title) > _TITLE_MAX:
        raise DomainError(f"话术标题不能为空，且不超过 {_TITLE_MAX} 个字",
                          f"a script title is required, at most {_TITLE_MAX} characters", code="script_title")
    if technique is not None and (isinstance(technique, bool) or technique not in range(1, 10)):
        raise DomainError("招式必须是九招之一（1–9）", "technique must be one of the nine (1–9)", code="script_technique")
    if channel and channel not in Channel.values:
        raise DomainError(f"未知渠道：{channel}", f"unknown channel: {channel}", code="script_channel")
    if not body.strip():
        raise DomainError("话术内容不能为空", "a script body is required", code="script_body")
    unknown = [name for name in placeholders_in(body) if name not in PLACEHOLDERS]
    if unknown:
        found = "、".join("{" + name + "}" for name in unknown)
        raise DomainError(f"话术含未知占位符：{found}", f"unknown placeholders in the script: {found}",
                          code="script_placeholder")
    if neutral:
        rules.validate_neutral_text(body)  # 个人信息保护法: nothing of the debt to a third party


def save_script(*, code: str, title: str, body: str, neutral: bool, technique: int | None = None,
                channel: str = "", active: bool = True) -> Script:
    """Create or update the script with this code, after checking it; DomainError if refused."""
    check_script(code=code, title=title, body=body, neutral=neutral, technique=technique, channel=channel)
    with transaction.atomic():
        script, _ = Script.objects.update_or_create(code=code, defaults={
            "title": title, "body": body, "neutral": neutral, "technique": technique, "channel": channel,
            "active": active,
        })
    return script


def ensure_scripts() -> int:
    """Create the default scripts whose code is missing; return how many. Staff edits are kept."""
    codes = [row["code"] for row in DEFAULT_SCRIPTS]
    existing = set(Script.objects.filter(code__in=codes).values_list("code", flat=True))
    missing = [Script(**row) for row in DEFAULT_SCRIPTS if row["code"] not in existing]
    if not missing:
        return 0
    # ignore_conflicts: a concurrent call may have created some; count what is there afterwards.
    Script.objects.bulk_create(missing, ignore_conflicts=True)
    return Script.objects.filter(code__in=codes).count() - len(existing)


def scripts_for(technique_numbers: Iterable[int], *, neutral_only: bool = False) -> list[Script]:
    """Active scripts for the techniques, in the techniques' order (then by code), in one query."""
    order = {number: index for index, number in enumerate(dict.fromkeys(technique_numbers))}
    if not order:
        return []
    queryset = Script.objects.filter(technique__in=order, active=True)
    if neutral_only:
        queryset = queryset.filter(neutral=True)
    return sorted(queryset, key=lambda script: (order[script.technique], script.code))


# -- the words for the persona (DESIGN.md §2, seed 000) -------------------------------------------

# For a reminder call (① 适时提醒, ② 断其后路) the persona chooses the words: the understanding
# owner hears the plan offer, the neglectful owner what the fee pays for, the evasive owner is
# asked how to reach them (and the collector reminded to keep the evidence), the resistant owner
# whose complaint is settled hears the contract duty.
PERSONA_SCRIPTS = {
    rules.UNDERSTANDING: "plan_offer",
    rules.RESISTANT: "resistant_duty",
    rules.NEGLECTFUL: "education_neglectful",
    rules.EVASIVE: "evasive_contact",
}
REMINDER_TECHNIQUES = frozenset({1, 2})
SERVICE_FIX = "service_fix_first"
# Scripts that ask for no payment: all a resistant owner with an open complaint is offered.
NOT_DEMANDS = frozenset({"neutral_third_party", "front_desk_polite", "three_warnings", "after_payment_follow_up",
                         SERVICE_FIX})
CHOSEN_CODES = frozenset({*PERSONA_SCRIPTS.values(), SERVICE_FIX})
_STAFF_ONLY = frozenset({Channel.FRONT_DESK_FLAG, Channel.LEGAL_REVIEW})


def script_code_for(*, technique: int | None, channel: str, persona: str, service_open: bool = False,
                    default: str = "") -> str:
    """The script to offer for a task or technique on a channel, for the owner's persona.

    `default` is the task's (or the technique's) own script; "" leaves the choice to the caller.
    A resistant owner with an open service ticket is offered no demand at all, only the service
    fix (抗拒型: fix the complaint first); front-desk and legal steps keep their own words.
    """
    if channel in _STAFF_ONLY:
        return default
    if persona == rules.RESISTANT and service_open and default not in NOT_DEMANDS:
        return SERVICE_FIX
    if channel == Channel.CALL and technique in REMINDER_TECHNIQUES and persona in PERSONA_SCRIPTS:
        return PERSONA_SCRIPTS[persona]
    return default


def technique_script_codes(techniques: Iterable[int], *, persona: str, service_open: bool,
                           defaults: Mapping[int, tuple[str, str]]) -> list[str]:
    """The script to show beside each technique, in order; "" where none, or where an earlier
    technique already shows the same script. `defaults` maps a technique to its own (code, channel)."""
    shown, codes = set(), []
    for number in techniques:
        code, channel = defaults.get(number, ("", Channel.CALL))
        chosen = script_code_for(technique=number, channel=channel, persona=persona, service_open=service_open,
                                 default=code)
        codes.append("" if chosen in shown else chosen)
        shown.add(chosen)
    return codes
