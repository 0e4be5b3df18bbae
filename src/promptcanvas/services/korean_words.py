"""Korean verbs, adjectives, adverbs and number words of prompts, with their English.

Verbs are `lemma=participle` with optional `|past participle` (said of the thing acted on:
"픽셀아트로 그린 용", a dragon drawn in pixel art) and `>preposition` for the object
("들판을 달리는", running across a field). `{}` marks where the subject goes ("눈 덮인 산",
a mountain covered with snow). Adjectives are `lemma=adjective`. Spaces are written `_`.
`noun+verb=english` is an idiom that takes the noun with it ("비 오는", rainy); `/a` makes it
an adjective.
"""

from __future__ import annotations

VERBS = """
    달리다=running>across 뛰다=running>across 뛰어가다=running>toward 달려가다=running>through
    뛰어놀다=playing 걷다=walking>along 걸어가다=walking>along 산책하다=strolling>along
    거닐다=strolling>through 헤매다=wandering>through 날다=flying>over 나다=flying>over
    날아가다=flying>over 날아오르다=soaring>into 헤엄치다=swimming>through 수영하다=swimming>in
    떠다니다=floating>in 떠있다=floating>in 흐르다=flowing>through 흩날리다=drifting_in_the_wind
    떨어지다=falling 내리다=falling 쏟아지다=pouring_down 흔들리다=swaying 춤추다=dancing
    뛰어오르다=leaping 앉다=sitting>on 서다=standing>on 서있다=standing>on 눕다=lying>on
    기대다=leaning>against 자다=sleeping 잠들다=sleeping 쉬다=resting 웃다=smiling
    미소짓다=smiling 울다=crying 노래하다=singing 부르다=singing 놀다=playing>with 먹다=eating
    마시다=drinking 요리하다=cooking 읽다=reading 쓰다=wearing 입다=wearing 신다=wearing
    들다=holding 잡다=holding 안다=hugging 껴안다=hugging 타다=riding 보다=looking>at
    바라보다=gazing|seen>at 쳐다보다=looking>at 올려다보다=looking_up>at
    내려다보다=looking_down>at 기다리다=waiting>for 찾다=searching>for 연주하다=playing
    치다=playing 그리다=painting|painted 칠하다=painting|painted 만들다=making|made
    짓다=building|built 쌓다=stacking|stacked 장식하다=decorating|decorated
    조각하다=carving|carved 찍다=taking|taken 덮다=covering|covered>with 덮이다=covered_with_{}
    싸이다=wrapped_in_{} 둘러싸이다=surrounded_by_{} 비추다=shining>on 비치다=shining
    빛나다=glowing 반짝이다=sparkling 반짝거리다=sparkling 타오르다=burning 불타다=burning
    피다=blooming 피어나다=blooming 자라다=growing 오다=coming 하다=doing> 가다=going>to
    들어가다=entering 나오다=coming_out>of 건너다=crossing 오르다=climbing 올라가다=climbing
    내려가다=descending 싸우다=fighting 지키다=guarding 안내하다=guiding
    여행하다=traveling>through 탐험하다=exploring 모험하다=adventuring>through
    구경하다=sightseeing>in 공부하다=studying 일하다=working 운전하다=driving
    낚시하다=fishing>in 캠핑하다=camping>in 키스하다=kissing 포옹하다=hugging
    손잡다=holding_hands 마주보다=facing 쓰다듬다=petting 던지다=throwing
    내다보다=looking_out>of 숨다=hiding>behind 피어오르다=rising 떠오르다=rising>over
    지다=setting 물들다=tinged_with_{} 끼다=hanging>over 불다=blowing 쌓이다=piled_with_{}
    녹다=melting 얼다=frozen 터지다=bursting 튀다=splashing 퍼지다=spreading 모이다=gathering
    기울다=tilting 부서지다=crashing 명상하다=meditating 도망치다=fleeing>from
    날아다니다=flying_around>over 살다=living>in 사다=living>in 뜨다=floating
    들어오다=streaming_in 쓰이다=written 수놓다=lighting_up 잠자다=sleeping 보이다=visible
    가지다=with>with 갖다=with>with 녹슬다=rusty 비치다=reflected 자욱하다=thick_with_{}
    감싸다=wrapping|wrapped>around 반사하다=reflecting|reflected 펼쳐지다=spreading_across
    날리다=flying> 어리다=young 다르다=other 깔리다=covered_with_{} 열리다=open 닫히다=closed
    켜지다=lit 꺼지다=unlit 젖다=wet 잠기다=submerged_in_{}

"""

IDIOMS = """
    비+오다=rainy/a 비+내리다=rainy/a 눈+오다=snowy/a 눈+내리다=snowy/a 눈+덮이다=snow-covered/a
    눈+쌓이다=snow-covered/a 안개+끼다=foggy/a 물안개+끼다=misty/a 구름+끼다=cloudy/a
    바람+불다=windy/a 햇살+가득하다=sunny/a 햇빛+가득하다=sunlit/a 햇살+비치다=sunlit/a
    햇살+좋다=sunny/a 노을+지다=sunset-lit/a 해+지다=at_sunset/a 별+빛나다=starry/a
    벚꽃+피다=blooming_cherry_blossom/a 단풍+들다=autumn-colored/a 이끼+끼다=mossy/a
    낮잠+자다=napping 잠+자다=sleeping 춤+추다=dancing 노래+부르다=singing
    사진+찍다=taking_photos 책+읽다=reading_a_book 커피+마시다=drinking_coffee
    차+마시다=drinking_tea 눈+크다=big-eyed/a 눈+파랗다=blue-eyed/a 머리+길다=long-haired/a
    머리카락+길다=long-haired/a 머리+짧다=short-haired/a 꼬리+길다=long-tailed/a
    안개+자욱하다=foggy/a 먼지+쌓이다=dusty/a 물+주다=watering
    눈싸움+하다=having_a_snowball_fight 손+잡다=holding_hands 산책+하다=strolling
    요리+하다=cooking 낚시+하다=fishing

"""

ADJECTIVES = """
    귀엽다=cute 예쁘다=pretty 아름답다=beautiful 멋지다=stunning 멋있다=cool 잘생기다=handsome
    사랑스럽다=lovely 작다=small 조그맣다=tiny 크다=big 커다랗다=huge 거대하다=giant 높다=tall
    낮다=low 길다=long 짧다=short 넓다=vast 좁다=narrow 깊다=deep 얕다=shallow 두껍다=thick
    얇다=thin 둥글다=round 뾰족하다=pointed 밝다=bright 어둡다=dark 환하다=bright
    화사하다=bright 선명하다=vivid 흐리다=hazy 투명하다=transparent 따뜻하다=warm 따스하다=warm
    포근하다=cozy 아늑하다=cozy 차갑다=cold 춥다=cold 시원하다=cool 덥다=hot 뜨겁다=hot
    고요하다=calm 잔잔하다=calm 조용하다=quiet 평화롭다=peaceful 차분하다=serene
    한적하다=secluded 쓸쓸하다=lonely 외롭다=lonely 슬프다=sad 우울하다=melancholic
    행복하다=happy 즐겁다=joyful 신나다=excited 기쁘다=joyful 신비롭다=mysterious
    신비하다=mysterious 몽환스럽다=dreamy 환상적=fantastical 몽환적=dreamy 낭만적=romantic
    로맨틱하다=romantic 극적=dramatic 웅장하다=majestic 장엄하다=majestic 화려하다=colorful
    알록달록하다=colorful 다채롭다=colorful 눈부시다=dazzling 찬란하다=brilliant
    황홀하다=enchanting 무섭다=scary 으스스하다=eerie 음산하다=gloomy 기괴하다=grotesque
    섬뜩하다=creepy 오래되다=old 낡다=worn 새롭다=new 깨끗하다=clean 더럽다=dirty 부드럽다=soft
    거칠다=rough 단단하다=solid 반짝반짝하다=sparkling 촉촉하다=moist 축축하다=damp
    싱그럽다=fresh 푸르다=blue 울창하다=lush 무성하다=overgrown 빽빽하다=dense 텅비다=empty
    비다=empty 가득하다=full_of_{} 많다=many 수많다=countless 같다={}-like 비슷하다={}-like
    닮다=resembling_{} 빨갛다=red 붉다=red 노랗다=yellow 파랗다=blue 푸르스름하다=bluish
    하얗다=white 희다=white 새하얗다=snow-white 까맣다=black 검다=black 새까맣다=pitch-black
    빛바래다=faded 귀하다=precious 고급스럽다=luxurious 우아하다=elegant 세련되다=sleek
    소박하다=rustic 단순하다=simple 복잡하다=intricate 정교하다=intricate 섬세하다=delicate
    사실적=realistic 현실적=realistic 입체적=three-dimensional 추상적=abstract 미래적=futuristic
    미래지향적=futuristic 고전적=classical 전통적=traditional 동양적=oriental 서정적=lyrical
    감성적=emotional 용감하다=brave 강하다=strong 늠름하다=valiant 지치다=tired 배고프다=hungry
    졸리다=sleepy 자연스럽다=natural 독특하다=unique 이상하다=strange 기묘하다=surreal
    초현실적=surreal 영화적=cinematic 시네마틱하다=cinematic 활기차다=lively 북적이다=bustling
    붐비다=crowded 한가롭다=leisurely 여유롭다=relaxed 느긋하다=relaxed 편안하다=comfortable
    아련하다=wistful 그립다=nostalgic 빈티지하다=vintage 레트로하다=retro 고풍스럽다=antique
    이국적=exotic

"""

ADVERBS = """
    천천히=slowly 빨리=quickly 빠르게=quickly 힘차게=energetically 조용히=quietly 가만히=still
    높이=high 멀리=far_away 함께=together 같이=together 홀로=alone 혼자=alone
    나란히=side_by_side 활짝=brightly 환하게=brightly 행복하게=happily 즐겁게=joyfully
    신나게=excitedly 평화롭게=peacefully 가볍게=lightly 흩어져=scattered 가득=full 잔뜩=full

"""

# Meta verbs ask for the picture itself: "강아지를 그려줘" is "a puppy".
META = frozenset(
    [
        "그리다",
        "만들다",
        "생성하다",
        "보여주다",
        "원하다",
        "표현하다",
        "부탁하다",
        "싶다",
        "주다",
        "제작하다",
        "디자인하다",
        "묘사하다",
        "그려주다",
        "만들어주다",
        "생성해주다",
        "나타내다",
        "이다",
    ]
)

NUMBERS = {
    "한": 1, "하나": 1, "두": 2, "둘": 2, "세": 3, "셋": 3, "석": 3, "네": 4, "넷": 4, "다섯": 5,
    "여섯": 6, "일곱": 7, "여덟": 8, "아홉": 9, "열": 10, "여러": 0, "몇": 0, "많은": 0,
}  # fmt: skip
INTENSIFIERS = frozenset(
    [
        "아주",
        "매우",
        "정말",
        "너무",
        "엄청",
        "되게",
        "진짜",
        "완전",
        "조금",
        "살짝",
        "약간",
        "더",
        "가장",
        "제일",
        "꼭",
        "잘",
        "또",
        "좀",
        "참",
        "무척",
    ]
)
DETERMINERS = {
    "다른": "another",
    "모든": "all",
    "온": "whole",
    "새": "new",
    "옛": "old",
    "헌": "old",
}
NUMBER_WORDS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
]
COUNTERS = frozenset(
    [
        "마리",
        "명",
        "개",
        "그루",
        "송이",
        "채",
        "대",
        "척",
        "쌍",
        "사람",
        "분",
        "장",
        "권",
        "잔",
        "켤레",
        "벌",
    ]
)
