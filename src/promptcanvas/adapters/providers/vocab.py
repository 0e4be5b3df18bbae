"""The visual vocabulary shared by the local renderer and prompt writer, in Korean and English.

Each concept has one canonical English name and a category. English is matched word by word
(with simple plurals); Korean is matched on stems inside the text, longest first, so that
particles (고양이가, 밤에) still match and a longer word (해변, 강아지) hides the shorter
ones inside it (해, 강). One-syllable Korean stems only match at the start of a word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RGB = tuple[int, int, int]

COLOUR = "colour"
SUBJECT = "subject"
ACTION = "action"
MOOD = "mood"
STYLE = "style"
TIME = "time"
WEATHER = "weather"
PLACE = "place"
LIGHTING = "lighting"
CAMERA = "camera"
DECOY = "decoy"  # Korean words that contain a stem but mean something else

# One concept a line: name; English forms (a multi-word form joined by _); Korean stems;
# the writer's phrase (default: the name); then for colours "r g b", for subjects the figure
# the renderer draws (default: the name). A name may take a second line for more forms.
_TABLE = {
    COLOUR: """
        red; red crimson scarlet; 빨간 빨강 붉은 레드 빨갛; red; 214 40 40
        orange; orange amber; 주황 오렌지; orange; 245 140 40
        yellow; yellow lemon; 노란 노랑 노랗 옐로; yellow; 245 215 60
        gold; gold golden; 금색 황금 골드; gold; 222 178 60
        green; green emerald; 초록 녹색 연두 그린; green; 60 170 80
        teal; teal turquoise cyan aqua mint; 청록 민트 하늘색; teal; 40 190 190
        blue; blue azure cobalt; 파란 파랑 푸른 블루 파랗; blue; 40 90 220
        navy; navy indigo; 남색 네이비; navy blue; 30 40 110
        purple; purple violet lavender; 보라 퍼플 라벤더; purple; 140 70 200
        pink; pink magenta fuchsia; 분홍 핑크; pink; 240 120 180
        white; white ivory; 하얀 흰 하양 화이트; white; 245 245 240
        black; black ebony; 검은 검정 까만 블랙; black; 22 22 28
        grey; grey gray silver; 회색 은색 그레이; silver grey; 150 150 158
        brown; brown chocolate; 갈색 브라운; brown; 130 85 50
        neon; neon fluorescent; 네온 형광; neon; 255 40 200
        pastel; pastel; 파스텔; soft pastel; 250 200 215
        monochrome; monochrome black_and_white; 흑백 모노톤; monochrome; 128 128 128
    """,
    TIME: """
        night; night midnight nighttime starry; 밤 야경 한밤 자정; at night
        sunset; sunset dusk evening sundown; 노을 해질녘 석양 저녁 일몰; at sunset
        morning; morning dawn sunrise; 아침 새벽 일출 해돋이; in the early morning
        noon; noon midday day daytime sunny; 낮 정오 한낮 대낮 맑은 화창; at noon
        golden hour; golden_hour; 골든아워; at golden hour
        twilight; twilight blue_hour; 황혼 땅거미 블루아워; at twilight
    """,
    WEATHER: """
        snow; snow snowy snowing winter; 눈 겨울 설경; in falling snow
        rain; rain rainy raining; 비 빗 장마; in the rain
        fog; fog foggy mist misty haze; 안개; in soft fog
        clouds; cloud cloudy overcast; 구름 흐린; with drifting clouds
        storm; storm stormy thunder lightning; 폭풍 천둥 번개; in a storm
    """,
    PLACE: """
        sea; sea ocean wave; 바다 파도 해양; by the sea
        beach; beach shore coast seaside; 해변 바닷가 해안 백사장; on a beach
        city; city town street downtown skyline urban; 도시 거리 도심 시내 빌딩; in a city
        mountain; mountain hill peak; 산 산맥 봉우리 설산 언덕; in the mountains
        forest; forest wood jungle; 숲 정글 숲속; in a forest
        meadow; meadow field grassland grass; 들판 초원 잔디 풀밭; in a green meadow
        lake; lake pond river; 호수 연못 강 강가; by a lake
        desert; desert dune; 사막; in a desert
        space; space galaxy cosmos universe planet; 우주 은하 행성; in outer space
        village; village countryside; 마을 시골; in a small village
        garden; garden park; 정원 공원 꽃밭; in a garden
        sky; sky; 하늘; under an open sky
    """,
    SUBJECT: """
        cat; cat kitten kitty; 고양이 냥이; a cat
        dog; dog puppy doggy; 강아지 개 멍멍이 댕댕이; a dog
        rabbit; rabbit bunny; 토끼; a rabbit
        fox; fox; 여우; a fox
        horse; horse pony; 말; a horse
        person; person people human figure; 사람 인물; a person
        girl; girl; 소녀 여자아이; a girl; person
        boy; boy; 소년 남자아이; a boy; person
        woman; woman lady; 여자 여인 여성; a woman; person
        man; man gentleman; 남자 남성 아저씨; a man; person
        child; child kid; 아이 어린이; a child; person
        astronaut; astronaut; 우주비행사 우주인; an astronaut
        robot; robot android; 로봇; a robot
        tree; tree pine; 나무 소나무; a tree
        flower; flower blossom rose tulip sunflower; 꽃 장미 튤립 해바라기; flowers
        cherry blossom; cherry_blossom sakura; 벚꽃; cherry blossoms; flower
        house; house home cottage cabin; 집 오두막 주택; a cozy house
        castle; castle palace; 성 궁전; a castle
        tower; tower; 탑 타워; a tower
        lighthouse; lighthouse; 등대; a lighthouse
        car; car vehicle; 자동차 차 차량; a car
        boat; boat ship sailboat yacht; 배 보트 돛단배 요트; a boat
        airplane; airplane plane aircraft; 비행기; an airplane
        balloon; balloon hot_air_balloon; 풍선 열기구; balloons
        bird; bird seagull; 새 갈매기; birds
        butterfly; butterfly; 나비; butterflies
        fish; fish whale; 물고기 고래; fish
        snowman; snowman; 눈사람; a snowman
        moon; moon; 달 보름달 초승달; the moon
        sun; sun; 해 태양; the sun
        stars; star; 별 별빛; stars
    """,
    ACTION: """
        running; running run; 달리 뛰는 뛰어; running
        sleeping; sleeping asleep; 잠자 잠든 자고있; sleeping
        sitting; sitting; 앉아 앉은; sitting
        walking; walking walk; 걷는 산책; walking
        playing; playing play; 노는 놀고; playing
        flying; flying; 날아 비행; flying
    """,
    MOOD: """
        calm; calm peaceful serene quiet tranquil; 고요 평화 잔잔 차분 조용; calm, peaceful mood
        dramatic; dramatic epic intense; 극적 웅장 강렬; dramatic atmosphere
        cozy; cozy cosy warm; 아늑 포근 따뜻; cozy, warm atmosphere
        dreamy; dreamy magical fantasy ethereal; 몽환 환상 동화; dreamy, magical atmosphere
        mysterious; mysterious dark eerie gloomy; 신비 어두운 음산; mysterious atmosphere
        cheerful; cheerful happy bright joyful cute; 밝은 행복 귀여운 즐거운; cheerful mood
        cheerful; ; 신나는
        melancholy; sad melancholy melancholic lonely; 슬픈 쓸쓸 외로운 우울; melancholic mood
        romantic; romantic; 로맨틱 낭만; romantic atmosphere
    """,
    STYLE: """
        watercolor; watercolor watercolour; 수채화 수채; watercolor painting
        pixel art; pixel_art pixel 8bit retro; 픽셀 도트; pixel art
        oil painting; oil_painting oil impasto; 유화; oil painting
        sketch; sketch line_art pencil drawing; 스케치 연필 드로잉 선화; pencil sketch, line art
        cyberpunk; cyberpunk synthwave; 사이버펑크; cyberpunk style
        anime; anime manga cartoon ghibli; 애니 만화 애니메이션 지브리; anime style
        photo; photo photograph realistic photorealistic; 사진 실사; photorealistic photograph
        cinematic; cinematic film movie; 영화 시네마틱; cinematic film still
        flat; flat vector minimal minimalist; 미니멀 플랫 벡터; flat vector illustration
        ink; ink sumi; 수묵화 먹; ink wash painting
    """,
    LIGHTING: """
        moonlight; moonlight moonlit; 달빛; soft moonlight
        sunlight; sunlight sunshine sunlit; 햇살 햇빛 햇볕; bright sunlight
        backlight; backlight backlit rim_light; 역광; dramatic backlight
        soft light; soft_light soft; 부드러운; soft diffused light
        candlelight; candlelight candle; 촛불 캔들; warm candlelight
        glow; glow glowing shiny; 빛나는 반짝; glowing light
        god rays; god_rays volumetric; 빛줄기; volumetric god rays
    """,
    CAMERA: """
        close-up; close_up closeup macro; 클로즈업 접사 매크로; close-up shot
        wide shot; wide_shot wide_angle panorama panoramic; 광각 와이드 파노라마; wide-angle shot
        aerial view; aerial drone; 항공 드론 조감; aerial view
        portrait; portrait; 초상 인물화 프로필; portrait shot
        bokeh; bokeh; 보케 아웃포커스; bokeh, shallow depth of field
        landscape; landscape scenery view; 풍경 경치; wide landscape view
    """,
    DECOY: """
        decoy; ; 개구리 개나리 우산 산타 생산 달콤 달력 말하 비밀 눈물 눈동자 눈빛
        decoy; ; 집중 배경 새로운 새해 성격 성공 성장 강한 해적 해골 아이스 먹는 먹고
        decoy; ; 비슷 차가운 낮은 별로
    """,
}

_FILLER = """a an the of in on at by with and or under over near into onto from to for its is are
    very some this that highly detailed 4k 8k hd masterpiece best quality high"""
_STOPWORDS = frozenset(_FILLER.split())
_HANGUL = re.compile(r"[가-힣]+")
_WORD = re.compile(r"[a-z0-9]+")
MAX_PHRASE = 3  # English forms are at most three words ("hot air balloon")


@dataclass(frozen=True)
class Concept:
    """One thing a prompt can ask for, named in canonical English."""

    name: str
    category: str
    phrase: str  # how the prompt writer says it
    figure: str = ""  # for subjects: the shape the renderer draws
    rgb: RGB | None = None  # for colours


@dataclass(frozen=True)
class Reading:
    """What a text asks for: concepts in order of appearance, and the words left over."""

    concepts: tuple[Concept, ...]
    unknown: tuple[str, ...]

    def of(self, category: str) -> list[Concept]:
        """Concepts of one category, in order of appearance."""
        return [c for c in self.concepts if c.category == category]


def _build() -> tuple[dict[tuple[str, ...], Concept], list[tuple[str, Concept]]]:
    english: dict[tuple[str, ...], Concept] = {}
    korean: list[tuple[str, Concept]] = []
    concepts: dict[str, Concept] = {}
    for category, block in _TABLE.items():
        for line in block.strip().splitlines():
            name, en, ko, *rest = (part.strip() for part in line.split(";"))
            concept = concepts.get(name)
            if concept is None:
                phrase = rest[0] if rest else name
                extra = rest[1] if len(rest) > 1 else ""
                rgb = None
                if category == COLOUR:
                    r, g, b = (int(v) for v in extra.split())
                    rgb = (r, g, b)
                figure = (extra or name) if category == SUBJECT else ""
                concept = Concept(name, category, phrase, figure, rgb)
                concepts[name] = concept
            for form in en.split():
                english[tuple(form.split("_"))] = concept
            korean += [(stem, concept) for stem in ko.split()]
    # Longest first, so that a word hides the shorter stems inside it.
    korean.sort(key=lambda item: -len(item[0]))
    return english, korean


_ENGLISH, _KOREAN = _build()


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def _korean(text: str) -> tuple[list[tuple[int, Concept]], list[str]]:
    found: list[tuple[int, Concept]] = []
    taken = bytearray(len(text))
    for stem, concept in _KOREAN:
        start = text.find(stem)
        while start >= 0:
            end = start + len(stem)
            at_word_start = start == 0 or not _HANGUL.match(text[start - 1])
            if (len(stem) > 1 or at_word_start) and not any(taken[start:end]):
                taken[start:end] = b"\x01" * len(stem)
                found.append((start, concept))
            start = text.find(stem, start + 1)
    unknown = [m.group() for m in _HANGUL.finditer(text) if not any(taken[m.start() : m.end()])]
    return found, unknown


def _english(text: str) -> tuple[list[tuple[int, Concept]], list[str]]:
    found: list[tuple[int, Concept]] = []
    unknown: list[str] = []
    words = [m.group() for m in _WORD.finditer(text)]
    starts = [m.start() for m in _WORD.finditer(text)]
    i = 0
    while i < len(words):
        for size in range(min(MAX_PHRASE, len(words) - i), 0, -1):
            exact = tuple(words[i : i + size])
            concept = _ENGLISH.get(exact) or _ENGLISH.get(tuple(map(_singular, exact)))
            if concept is not None:
                found.append((starts[i], concept))
                i += size
                break
        else:
            if words[i] not in _STOPWORDS:
                unknown.append(words[i])
            i += 1
    return found, unknown


def read(text: str) -> Reading:
    """The concepts a text names, in order of appearance, and its words left unmatched."""
    lowered = text.lower()
    korean, unknown_ko = _korean(lowered)
    english, unknown_en = _english(lowered)
    seen: dict[str, Concept] = {}
    for _, concept in sorted(korean + english, key=lambda item: item[0]):
        if concept.category != DECOY:
            seen.setdefault(concept.name, concept)
    return Reading(concepts=tuple(seen.values()), unknown=tuple(unknown_ko + unknown_en))
