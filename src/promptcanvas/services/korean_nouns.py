"""Korean nouns of the visual vocabulary of prompts, with their English.

One category a block; entries are `korean=english` (spaces in English written as `_`), with
optional flags after `/` (t: takes "the", a: takes "a", w: "with" as a genitive, m: before
the noun as a genitive, u: no article, p: already plural, n: proper name) and
an optional preposition after `@` (how the noun is said as a place or time: "on a bench").
Category defaults (article, preposition) live in `korean_lexicon.py`.
"""

from __future__ import annotations

NOUNS = {
    # Living things, people and objects: "a ...", "on a ..." as a place.
    "S": """
        사람=person 인물=person 군중=crowd 소녀=girl 소년=boy 여자=woman 여성=woman 여인=woman
        남자=man 남성=man 아이=child 어린이=child 아기=baby 노인=old_man 할머니=grandmother
        할아버지=grandfather 엄마=mother 아빠=father 가족=family 커플=couple 연인=couple
        친구=friend 학생=student 여학생=schoolgirl 남학생=schoolboy 선생님=teacher 군인=soldier
        요리사=chef 화가=painter 음악가=musician 댄서=dancer 무용수=dancer 가수=singer
        농부=farmer 어부=fisherman 상인=merchant 여행자=traveler 나그네=wanderer 탐험가=explorer
        등산객=hiker 우주비행사=astronaut 우주인=astronaut 과학자=scientist 의사=doctor
        간호사=nurse 경찰=police_officer 소방관=firefighter 사무라이=samurai 닌자=ninja
        해적=pirate 기사=knight 전사=warrior 궁수=archer 마법사=wizard 마녀=witch 공주=princess
        왕자=prince 왕=king 여왕=queen 천사=angel 악마=demon 요정=fairy 인어=mermaid 유령=ghost
        좀비=zombie 뱀파이어=vampire 엘프=elf 외계인=alien 괴물=monster 로봇=robot
        안드로이드=android 사이보그=cyborg 인형=doll 곰인형=teddy_bear 허수아비=scarecrow
        고양이=cat 냥이=cat 아기고양이=kitten 새끼고양이=kitten 강아지=puppy 개=dog 댕댕이=puppy
        멍멍이=puppy 토끼=rabbit 여우=fox 늑대=wolf 호랑이=tiger 사자=lion 곰=bear
        북극곰=polar_bear 판다=panda 너구리=raccoon 다람쥐=squirrel 햄스터=hamster
        고슴도치=hedgehog 쥐=mouse 사슴=deer/p 노루=deer/p 말=horse 조랑말=pony 얼룩말=zebra
        소=cow 돼지=pig 양=sheep/p 염소=goat 알파카=alpaca 낙타=camel 코끼리=elephant
        기린=giraffe 원숭이=monkey 고릴라=gorilla 캥거루=kangaroo 코알라=koala 수달=otter
        새=bird 참새=sparrow 비둘기=pigeon 까치=magpie 까마귀=crow 부엉이=owl 올빼미=owl
        독수리=eagle 매=hawk 갈매기=seagull 백조=swan 학=crane 두루미=crane 오리=duck 닭=chicken
        병아리=chick 공작=peacock 앵무새=parrot 펭귄=penguin 플라밍고=flamingo 홍학=flamingo
        물고기=fish/p 금붕어=goldfish 잉어=koi 고래=whale 돌고래=dolphin 상어=shark
        해파리=jellyfish 문어=octopus 거북이=turtle 거북=turtle 게=crab 개구리=frog 뱀=snake
        도마뱀=lizard 공룡=dinosaur 나비=butterfly 벌=bee 꿀벌=bee 잠자리=dragonfly
        반딧불이=fireflies/p 반딧불=fireflies/p 무당벌레=ladybug 거미=spider 용=dragon
        드래곤=dragon 유니콘=unicorn 봉황=phoenix 불사조=phoenix 구미호=nine-tailed_fox
        나무=tree 소나무=pine_tree 대나무=bamboo/u 벚나무=cherry_tree 야자수=palm_tree
        단풍나무=maple_tree 꽃=flowers/p 장미=rose 튤립=tulip 해바라기=sunflower 백합=lily
        연꽃=lotus 국화=chrysanthemum 벚꽃=cherry_blossoms/p 유채꽃=yellow_canola_flowers/p
        코스모스=cosmos_flowers/p 라벤더=lavender/u 민들레=dandelion 수국=hydrangea
        매화=plum_blossoms/p 진달래=azaleas/p 동백꽃=camellia 꽃잎=petals/p 나뭇잎=leaves/p
        잎=leaves/p 낙엽=fallen_leaves/p 단풍=autumn_leaves/p 단풍잎=maple_leaves/p 풀=grass/u
        이끼=moss/u 버섯=mushroom 선인장=cactus 덩굴=vines/p 열매=fruit 사과=apple
        딸기=strawberry 귤=tangerine 수박=watermelon 복숭아=peach 케이크=cake 빵=bread/u
        커피=coffee/u 차=car 와인=wine/u 음식=food/u 라면=ramen/u 김밥=gimbap/u
        떡볶이=tteokbokki/u 초밥=sushi/u 피자=pizza 햄버거=hamburger 아이스크림=ice_cream
        집=house 오두막=cabin 통나무집=log_cabin 주택=house 한옥=hanok_house
        초가집=thatched_cottage 성=castle 궁전=palace 궁궐=palace 탑=tower 타워=tower
        등대=lighthouse 풍차=windmill 다리=bridge 돌다리=stone_bridge 빌딩=building
        건물=building 고층빌딩=skyscraper 마천루=skyscraper 성당=cathedral 교회=church
        사원=temple 절=temple 정자=pavilion 분수=fountain 동상=statue 기둥=pillar 문=door
        대문=gate 창문=window 계단=stairs/p 자동차=car 차량=car 자전거=bicycle
        오토바이=motorcycle 버스=bus 기차=train 열차=train 지하철=subway_train 비행기=airplane
        헬리콥터=helicopter 배=ship 보트=boat 돛단배=sailboat 요트=yacht 나룻배=rowboat
        카누=canoe 잠수함=submarine 우주선=spaceship 로켓=rocket 열기구=hot_air_balloon
        풍선=balloons/p 연=kite 우산=umbrella 모자=hat 밀짚모자=straw_hat 안경=glasses/p
        목도리=scarf 스카프=scarf 가방=bag 드레스=dress 한복=hanbok 기모노=kimono
        교복=school_uniform 정장=suit 갑옷=armor/u 우주복=spacesuit 코트=coat 후드티=hoodie
        왕관=crown 검=sword 칼=sword 활=bow 방패=shield 지팡이=staff 마법봉=magic_wand 책=book
        편지=letter 지도=map 카메라=camera 기타=guitar 피아노=piano 바이올린=violin 시계=clock
        등불=lantern 랜턴=lantern 촛불=candle 양초=candle 거울=mirror 의자=chair 소파=sofa
        침대=bed 책상=desk 테이블=table 식탁=dining_table 벤치=bench 그네=swing
        화분=potted_plant 꽃병=vase 컵=cup 찻잔=teacup 머그컵=mug 노트북=laptop 컴퓨터=computer
        스마트폰=smartphone 휴대폰=phone 텔레비전=television 네온사인=neon_signs/p
        간판=signboard 가로등=street_lamp 신호등=traffic_light 전봇대=utility_pole 울타리=fence
        우물=well 눈사람=snowman 모래성=sandcastle 보석=jewels/p 왕좌=throne 보물=treasure/u
        해골=skull 가면=mask 꽃다발=bouquet 선물=gift 크리스마스트리=christmas_tree
        트리=christmas_tree 별=stars/p 달=moon/t 보름달=full_moon/t 초승달=crescent_moon/t
        해=sun/t 태양=sun/t 행성=planet 지구=earth/t 은하수=milky_way/t 은하=galaxy
        유성=shooting_star 혜성=comet 오로라=aurora/u 무지개=rainbow 파도=waves/p 물결=ripples/p
        불꽃놀이=fireworks/p 불꽃=sparks/p 연기=smoke/u 돌=stones/p 바위=rock 모래=sand/u
        얼음=ice/u 물=water/u 불=fire/u 빛=light/u 눈송이=snowflakes/p 물방울=water_droplets/p
        빗방울=raindrops/p 거품=bubbles/p 비눗방울=soap_bubbles/p 얼굴=face 눈동자=eyes/pw
        머리카락=hair/uw 머리=hair/uw 손=hand 날개=wings/pw 꼬리=tail/w 뿔=horns/pw 스님=monk
        승려=monk 잠수부=diver 다이버=diver 허스키=husky 리트리버=retriever 시바견=shiba_inu
        당근=carrot 홍차=black_tea/u 녹차=green_tea/u 과자=sweets/p 사탕=candy/u
        초콜릿=chocolate/u 쿠키=cookies/p 벽난로=fireplace 우체통=mailbox 해먹=hammock
        수정=crystals/p 크리스털=crystals/p 캠핑카=camper_van 텐트=tent 김=steam/u
        수증기=steam/u 먼지=dust/u 커피잔=coffee_cup 잔=cup 글씨=lettering/u 글자=letters/p
        갈대=reeds/p 에펠탑=Eiffel_Tower/n 피라미드=pyramid 자유의여신상=Statue_of_Liberty/n
        스핑크스=sphinx 창=window 벽=wall 바닥=floor/t 천장=ceiling/t 커튼=curtains/p
        액자=picture_frame 카펫=carpet 쿠션=cushions/p 청년=young_man 장갑=gloves/p
        종이비행기=paper_airplane 호박=pumpkin 유리병=glass_bottle 병=bottle 스포츠카=sports_car
        처마=eaves/p 돌담=stone_wall 기와=roof_tiles/p 종이=paper/u 눈싸움=snowball_fight
        물놀이=water_play/u 불꽃=sparks/p 횃불=torch 모닥불=campfire 캠프파이어=campfire
        전투=battle 싸움=fight 행렬=procession 낮잠=nap/u 잠=sleep/u 춤=dance 노래=song
        축제=festival 파티=party 결혼식=wedding 여행=journey 모험=adventure

    """,
    # Places: "in a ...".
    "P": """
        바다=sea/t 바닷가=seaside/t@by 해변=beach@on 해안=coast@on 백사장=sandy_beach@on
        해변가=beach@on 섬=island@on 항구=harbor 부두=pier@on 산=mountain 산맥=mountain_range
        산속=mountain_forest@deep_in 설산=snowy_mountains/p 봉우리=peak@on 언덕=hill@on
        절벽=cliff@on 계곡=valley 협곡=canyon 폭포=waterfall@by 동굴=cave 화산=volcano
        빙하=glacier@on 숲=forest 숲속=forest@deep_in 정글=jungle 밀림=jungle
        대나무숲=bamboo_forest 들판=field 들=field 초원=meadow 평원=plain 잔디밭=lawn@on
        잔디=lawn@on 풀밭=grassy_field 꽃밭=flower_field 유채꽃밭=canola_flower_field
        꽃길=flower-lined_path@on 밀밭=wheat_field 논=rice_field 밭=farm_field 호수=lake@by
        연못=pond@by 강=river@by 강가=riverside@by 냇가=stream@by 시냇물=stream@by 사막=desert
        오아시스=oasis 우주=outer_space/u 하늘=sky/t 밤하늘=night_sky/t 들녘=field 도시=city
        도심=downtown 시내=downtown 거리=street@on 길=road@on 골목=alley 골목길=alley
        밤거리=night_street@on 시장=market 광장=square 공원=park 정원=garden 놀이터=playground
        놀이공원=amusement_park 마을=village 시골=countryside/t 농장=farm@on 학교=school@at
        교실=classroom 도서관=library 서점=bookstore 카페=cafe 식당=restaurant 술집=bar
        부엌=kitchen 주방=kitchen 거실=living_room 침실=bedroom 방=room 욕실=bathroom
        다락방=attic 지하실=basement 옥상=rooftop@on 창가=window@by 발코니=balcony@on
        베란다=balcony@on 테라스=terrace@on 지붕=roof@on 정류장=bus_stop@at 역=station@at
        기차역=train_station@at 공항=airport@at 기찻길=railway@on 철길=railway@on 도로=road@on
        고속도로=highway@on 터널=tunnel 다리위=bridge@on 정상=summit@on 산꼭대기=mountaintop@on
        산길=mountain_path@on 오솔길=trail@on 마당=yard 정원수=garden_trees/p 운동장=schoolyard
        갈대밭=reed_field 결혼식장=wedding_hall 정거장=station@at 내부=interior/t 실내=indoors/u
        야외=outdoors/u 창밖=window@outside 물웅덩이=puddle 웅덩이=puddle
        해저도시=underwater_city 운해=sea_of_clouds/t@above 스카이라인=skyline/t@over
        수평선=horizon/t@on 지평선=horizon/t@on 항해=voyage 병원=hospital 실험실=laboratory
        공장=factory 사무실=office 스튜디오=studio 무대=stage@on 미술관=art_gallery
        박물관=museum 신전=temple 폐허=ruins/p@among 유적=ruins/p@among 왕국=kingdom
        천국=heaven/u 지옥=hell/u 수중=underwater/u@in 바닷속=underwater/u@in
        물속=underwater/u@in 심해=deep_sea/t 해저=sea_floor/t@on 우주정거장=space_station@on
        달표면=lunar_surface/t@on 화성=mars/n@on 서울=Seoul/n 부산=Busan/n
        제주도=Jeju_Island/n@on 제주=Jeju_Island/n@on 한강=Han_River/n@by
        경복궁=Gyeongbokgung_Palace/n@at 남산=Namsan/n@on 도쿄=Tokyo/n 파리=Paris/n
        뉴욕=New_York/n 북극=arctic/t 남극=antarctica/n 돌담길=stone_wall_path@on
        카파도키아=Cappadocia/n 모래사장=sandy_beach@on 런던=London/n 베니스=Venice/n
        한국=Korea/n 일본=Japan/n

    """,
    # Times and seasons: "at ...", "in ...".
    "T": """
        밤=night/u 한밤=midnight/u 한밤중=midnight/u 자정=midnight/u 새벽=dawn/u
        아침=morning/t@in 오전=morning/t@in 낮=daytime/u@in 대낮=broad_daylight/u@in
        한낮=midday/u 정오=noon/u 오후=afternoon/t@in 저녁=evening/t@in 해질녘=sunset/u
        노을=sunset_glow/u 석양=sunset/u 일몰=sunset/u 일출=sunrise/u 해돋이=sunrise/u
        황혼=dusk/u 땅거미=dusk/u 골든아워=golden_hour/u 블루아워=blue_hour/u
        야경=night_view/u@in 봄=spring/u@in 여름=summer/u@in 가을=autumn/u@in 겨울=winter/u@in
        날=day/a 봄날=spring_day/a@on 여름날=summer_day/a@on 가을날=autumn_day/a@on
        겨울날=winter_day/a@on 크리스마스=christmas/n 할로윈=halloween/n 설날=lunar_new_year/n
        추석=chuseok/n 미래=future/t@in 과거=past/t@in 옛날=olden_days/p@in
        중세=medieval_times/p@in

    """,
    # Weather: "in the rain".
    "W": """
        봄비=spring_rain/u 가랑비=drizzle/u 비=rain/t 빗속=rain/t 소나기=rain_shower
        장마=monsoon_rain/t 눈=snow/u 폭설=heavy_snow/u 눈보라=blizzard 안개=fog/u 물안개=mist/u
        구름=clouds/p 먹구름=dark_clouds/p 폭풍=storm 폭풍우=storm 태풍=typhoon 천둥=thunder/u
        번개=lightning/u 바람=wind/t 산들바람=breeze 서리=frost/u 이슬=dew/u 햇살=sunlight/u

    """,
    # Art styles and media: "in watercolor".
    "Y": """
        수채화=watercolor 수채=watercolor 유화=oil_painting 수묵화=ink_wash_painting 먹=ink
        동양화=oriental_painting 연필화=pencil_drawing 연필=pencil 스케치=sketch 드로잉=drawing
        선화=line_art 크레파스=crayon 크레용=crayon 파스텔=pastel 아크릴=acrylic
        일러스트=illustration 삽화=illustration 그림책=picture_book 동화책=storybook 만화=comic
        웹툰=webtoon 애니=anime 애니메이션=animation 지브리=studio_ghibli/n 디즈니=disney/n
        픽사=pixar/n 픽셀아트=pixel_art 픽셀=pixel 도트=pixel_art 클레이=claymation 점토=clay
        저폴리=low_poly 로우폴리=low_poly 아이소메트릭=isometric 실사=photorealistic 사진=photo
        필름=film 필름사진=film_photo 흑백=black_and_white 흑백사진=black_and_white_photo
        폴라로이드=polaroid 빈티지=vintage 레트로=retro 스팀펑크=steampunk 사이버펑크=cyberpunk
        판타지=fantasy 동화=fairy_tale 미니멀=minimalist 팝아트=pop_art 우키요에=ukiyo-e
        스테인드글라스=stained_glass 종이접기=origami 콜라주=collage 렌더링=render
        벡터=vector_art 포스터=poster 그림=picture 이미지=image 초상화=portrait
        풍경화=landscape_painting 정물화=still_life 벽화=mural 모자이크=mosaic
        판화=woodblock_print 네온=neon 영화=film 시네마틱=cinematic 고딕=gothic 바로크=baroque
        아르누보=art_nouveau 인상파=impressionist 인상주의=impressionism 초현실주의=surrealism
        추상화=abstract_painting 컨셉아트=concept_art 캐리커처=caricature 이모티콘=emoji
        로고=logo 아이콘=icon 스티커=sticker 캐릭터=character 마스코트=mascot 게임=video_game

    """,
    # Light.
    "L": """
        햇빛=sunlight/u 햇볕=sunshine/u 달빛=moonlight/t 별빛=starlight/u 불빛=lights/p
        조명=lighting/u 노을빛=sunset_glow/t 역광=backlight/u 자연광=natural_light/u
        빛줄기=light_rays/p 그림자=shadows/p 네온빛=neon_light/u 촛불빛=candlelight/u
        석양빛=sunset_light/t 스포트라이트=spotlight 반사=reflections/p

    """,
    # Camera and framing.
    "C": """
        클로즈업=close-up/u 접사=macro_shot/u 매크로=macro_shot/u 광각=wide-angle_shot/u
        와이드샷=wide_shot/u 파노라마=panorama 항공=aerial_view/u 드론=drone 촬영=shot
        조감도=bird's-eye_view/u 전신=full_body_shot/u 상반신=upper_body_portrait/u 보케=bokeh/u
        아웃포커스=shallow_depth_of_field/u 심도=depth_of_field/u 풍경=landscape 경치=scenery/u
        구도=composition 배경=background/t 전경=foreground/t 실루엣=silhouette 정면=front_view/u
        측면=side_view/u 뒷모습=back_view/u 시점=perspective 셀카=selfie 프로필=profile_picture
        해상도=resolution/u 전통=traditional/u 현대=modern/u 중세=medieval/u 미래형=futuristic/u
        고화질=high_resolution/u 고해상도=high_resolution/u 배경화면=wallpaper

    """,
    # Atmosphere words: "with a ... atmosphere".
    "M": """
        분위기=atmosphere@with 느낌=style/u@in 감성=mood@with 무드=mood@with 스타일=style/u@in
        풍=style/u@in 화풍=art_style/u@in 색감=colors/p@with 색상=colors/p@with 톤=tone@with
        질감=texture@with 디테일=details/p@with 평화=peace/u 사랑=love/u 꿈=dream/um 희망=hope/u
        자유=freedom/u 고독=solitude/u 향수=nostalgia/u 추억=memories/p 신비=mystery/um
        마법=magic/um 환상=fantasy/um 공포=horror/um 우정=friendship/u 나=myself/u

    """,
    # Colours as nouns: "red", "in red".
    "K": """
        빨간색=red 빨강=red 붉은색=red 주황색=orange 주황=orange 노란색=yellow 노랑=yellow
        초록색=green 초록=green 녹색=green 연두색=lime_green 청록색=teal 하늘색=sky_blue
        파란색=blue 파랑=blue 남색=navy_blue 보라색=purple 보라=purple 분홍색=pink 분홍=pink
        핑크=pink 흰색=white 하얀색=white 검은색=black 검정=black 까만색=black 회색=gray
        은색=silver 금색=gold 황금색=golden 갈색=brown 베이지=beige 민트=mint_green
        파스텔톤=pastel_colors 황금빛=golden 분홍빛=pink 은빛=silver 금빛=golden 보랏빛=purple
        초록빛=green 푸른빛=blue 붉은빛=red 무지개색=rainbow_colors 흑백톤=monochrome
        모노톤=monochrome 금=gold 은=silver

    """,
}

# Words that place a noun: "달 위" is "on the moon".
POSITIONS = {
    "위": "on", "아래": "under", "밑": "beneath", "속": "in", "안": "inside", "앞": "in front of",
    "뒤": "behind", "옆": "next to", "사이": "among", "가운데": "in the middle of",
    "한가운데": "in the middle of",
    "근처": "near", "주변": "around", "너머": "beyond", "위쪽": "above", "건너편": "across from",
    "바깥": "outside", "밖": "outside", "끝": "at the edge of", "꼭대기": "on top of",
}  # fmt: skip

# Head nouns that add nothing: "강아지가 달리는 모습" is "a puppy running".
DUMMY_HEADS = frozenset(["모습", "장면", "광경", "순간", "모양", "것"])
