"""Words the generator builds prompts from: Korean, English, and the labels around them.

Each list is ordered from common to rare; the generator draws with Zipf-like weights, so the
first entries appear in many prompts and the last ones in few (which gives searches of every
selectivity, from "밤" in a quarter of the library to "산타마을" in a fraction of a percent).
"""

from __future__ import annotations


def _words(text: str) -> list[str]:
    return [w.strip() for w in text.split(",") if w.strip()]


KO_SUBJECTS = _words("""
강아지, 고양이, 소녀, 소년, 여자, 남자, 할머니, 할아버지, 아이, 로봇, 여우, 토끼, 용, 기사,
마법사, 공주, 고래, 나비, 사슴, 부엉이, 늑대, 곰, 펭귄, 호랑이, 말, 우주비행사, 해적, 요정,
어부, 화가, 소방관, 요리사, 무용수, 천사, 닌자, 사무라이, 인어, 유령, 해파리, 다람쥐, 판다,
여행자, 탐험가, 수도승, 드래곤, 골렘, 거북이, 앵무새, 백조, 산타
""")

KO_PLACES = _words("""
숲, 바다, 도시, 마을, 해변, 산, 강가, 골목, 카페, 교실, 우주, 사막, 호수, 정원, 성, 꽃밭, 폭포,
지하철, 시장, 옥상, 도서관, 등대, 항구, 기차역, 놀이공원, 섬, 동굴, 신전, 빙하, 초원, 궁전,
한옥마을, 서울, 부산, 제주도, 설산, 대나무숲, 온천, 산타마을, 달동네
""")

KO_ADJECTIVES = _words("""
귀여운, 아름다운, 신비로운, 작은, 거대한, 오래된, 빛나는, 행복한, 외로운, 조용한, 화려한,
따뜻한, 차가운, 몽환적인, 슬픈, 용감한, 낡은, 투명한, 우아한, 장엄한, 기묘한, 포근한, 쓸쓸한,
찬란한
""")

KO_ACTIONS = _words("""
뛰노는, 잠든, 걷는, 웃는, 날아가는, 바라보는, 춤추는, 앉아 있는, 책을 읽는, 비를 맞는, 노래하는,
달리는, 헤엄치는, 꿈꾸는, 기다리는, 차를 마시는, 그림을 그리는, 별을 세는, 눈싸움하는, 낚시하는
""")

KO_TIMES = _words("""
밤, 새벽, 노을, 아침, 한낮, 황혼, 봄, 여름, 가을, 겨울, 자정, 해질녘
""")

KO_WEATHER = _words("""
눈 내리는, 비 오는, 안개 낀, 맑은, 바람 부는, 구름 낀, 별이 빛나는, 달빛 비치는, 벚꽃 날리는,
단풍 물든, 폭풍우 치는, 무지개 뜬
""")

KO_MEDIA = _words("""
영상, 사진, 그림, 일러스트, 풍경, 수채화, 유화, 애니메이션, 포스터, 3D 렌더, 스케치, 만화, 판화,
동화 삽화, 픽셀 아트, 풍경화, 초상화, 벽화
""")

KO_LIGHT = _words("""
밝은, 어두운, 부드러운 조명, 역광, 황금빛 조명, 네온 조명, 자연광, 촛불 조명, 은은한 빛,
강한 그림자, 햇살 가득한, 푸른 달빛
""")

KO_COLOURS = _words("""
파스텔, 파란, 분홍, 노란, 초록, 보라, 빨간, 흑백, 주황, 청록, 금색, 은색
""")

KO_MOODS = _words("""
따뜻한, 평화로운, 몽환적인, 쓸쓸한, 신비로운, 경쾌한, 웅장한, 아늑한, 서정적인, 긴장감 있는,
향수를 불러일으키는, 동화 같은
""")

KO_STYLES = _words("""
지브리 스타일, 픽사 스타일, 사이버펑크, 스팀펑크, 수묵화 스타일, 인상파 스타일, 미니멀리즘,
레트로, 아르누보, 팝아트, 한국 전통화, 디즈니 스타일
""")

KO_EXTRAS = _words("""
고화질, 세밀한 묘사, 8k, 선명한 초점, 높은 디테일, 영화 같은 구도, 넓은 화각, 얕은 심도,
부드러운 질감, 대칭 구도, 걸작, 최고 품질
""")

EN_SUBJECTS = _words("""
puppy, cat, girl, woman, man, old man, robot, fox, dragon, knight, astronaut, wizard, princess,
samurai, fisherman, old fisherman, witch, rabbit, owl, whale, deer, wolf, tiger, lighthouse,
castle, cyborg, mermaid, pirate ship, steam locomotive, mountain cabin, ballerina, monk,
street vendor, jellyfish, koi fish, teapot, vintage car, hot air balloon, sports car,
ramen bowl, treehouse, phoenix, golem, beekeeper, clockmaker, snow leopard, red panda,
hummingbird, axolotl, santa claus
""")

EN_ADJECTIVES = _words("""
beautiful, cute, old, young, mysterious, tiny, giant, ancient, majestic, lonely, happy, elegant,
weathered, futuristic, cozy, fierce, ethereal, rusty, glowing, whimsical, regal, tattered,
serene
""")

EN_SHOTS = _words("""
portrait, cinematic portrait, close-up, wide shot, full body shot, aerial view, macro photo,
establishing shot, headshot, low angle shot, isometric view, product shot, street photo, selfie
""")

EN_ACTIONS = _words("""
running, sleeping, walking, smiling, flying, reading a book, dancing, looking at the sea,
drinking tea, standing in the rain, playing in the snow, fishing, painting, singing, floating,
meditating, sitting by the window
""")

EN_PLACES = _words("""
in a forest, on the beach, in a city street, in a small village, in space, in the desert,
by a mountain lake, in a flower field, in a cafe, on a rooftop, in a library,
at a train station, in a night market, under cherry blossoms, in a snowy village, on a cliff,
in an abandoned factory, in a bamboo forest, on a spaceship, in a cyberpunk alley,
inside a cathedral, at the harbour, in a greenhouse, on the moon
""")

EN_LIGHTING = _words("""
golden hour, soft light, dramatic lighting, rim lighting, volumetric light, neon lights,
moonlight, overcast, studio lighting, backlit, candlelight, blue hour, god rays, harsh sunlight,
bioluminescent glow
""")

EN_COLOURS = _words("""
pastel, teal and orange, monochrome, warm, cool blue, vibrant, muted, black and white, earthy,
neon pink, emerald green, crimson, sepia, gold
""")

EN_MOODS = _words("""
serene, melancholic, whimsical, epic, cozy, eerie, nostalgic, dreamy, joyful, moody, peaceful,
ominous, romantic, gritty
""")

EN_STYLES = _words("""
photorealistic, cinematic, anime, watercolor, oil painting, studio ghibli style, concept art,
digital art, 3d render, pixel art, low poly, ukiyo-e, art nouveau, film noir, vaporwave,
claymation, charcoal sketch, papercut, baroque painting, synthwave
""")

EN_CAMERA = _words("""
35mm, 50mm, 85mm f/1.4, 8k, 4k, shot on kodak portra 400, shallow depth of field, bokeh,
wide angle, tilt-shift, long exposure, fujifilm, hasselblad, anamorphic, octane render,
unreal engine 5, ray tracing
""")

EN_EXTRAS = _words("""
highly detailed, masterpiece, best quality, sharp focus, intricate details,
trending on artstation, award winning, ultra realistic, hdr, film grain,
symmetrical composition, rule of thirds, dynamic pose, depth of field
""")

NEGATIVES = _words("""
blurry, low quality, worst quality, watermark, text, signature, jpeg artifacts, bad anatomy,
extra fingers, deformed hands, cropped, out of frame, lowres, oversaturated, ugly, duplicate,
mutated, nsfw, logo, grainy, 저화질, 흐릿함, 워터마크, 글자, 왜곡된 얼굴, 잘린 이미지, 노이즈,
과도한 채도
""")

TAGS = _words("""
portrait, landscape, favorite, sdxl, anime, photoreal, wip, character, 풍경, 인물, 동물, night,
fantasy, sci-fi, client, concept, 캐릭터, 야경, 배경, flux, midjourney, test, reference, cute,
dark, color-study, lighting, architecture, product, food, fashion, poster, cover, thumbnail,
storyboard, 동화, 웹툰, 광고, 썸네일, 겨울, 여름, 봄, 가을, 크리스마스, cyberpunk, retro,
minimal, surreal, watercolor, oil, pixel, 3d, logo, icon, pattern, texture, wallpaper, banner,
sketch, lineart, studio, outdoor, indoor, macro, aerial, underwater, space, forest, ocean, city,
village, mountain, desert, snow, rain, sunset, sunrise, neon, pastel, vintage, noir, horror,
romance, comedy, drama, epic, cozy, moody, review, approved, rejected, v2, v3, draft, final,
archive, experiment, lora, controlnet, inpaint, upscale, img2img, seed-locked, batch
""")

CATEGORIES = _words("""
portrait, landscape, character, animal, fantasy, sci-fi, architecture, product, food, fashion,
인물, 풍경, 동물, 캐릭터, 배경, 일러스트, concept art, illustration, poster, abstract
""")

PROJECT_NAMES = _words("""
spring campaign, 동화책 삽화, game concept, 웹툰 배경, album cover, brand refresh,
인스타그램 피드, storyboard, 포트폴리오, moodboard, client pitch, 크리스마스 카드, short film,
뮤직비디오, travel series, character sheet, 제품 촬영, poster series, 유튜브 썸네일, personal
""")

MODELS = [
    ("sdwebui", "sdxl-1.0", "1.0"),
    ("sdwebui", "sd-1.5", "1.5"),
    ("comfyui", "flux-dev", "1.0"),
    ("openai", "dall-e-3", "2024-02"),
    ("openai", "gpt-image-1", "2025-04"),
    ("manual", "midjourney", "6.1"),
    ("comfyui", "sd-3.5-large", "3.5"),
]

SAMPLERS = _words("""
euler a, dpm++ 2m karras, dpm++ sde, ddim, uni_pc, lcm
""")

SIZES = [
    (1024, 1024),
    (832, 1216),
    (1216, 832),
    (512, 512),
    (768, 1344),
    (1344, 768),
]
