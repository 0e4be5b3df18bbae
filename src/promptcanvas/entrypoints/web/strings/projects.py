"""Strings of the project pages."""

EN = {
    "your_projects": "Your projects",
    "prompt_count": "{n} prompts",
    "output_count": "{n} outputs",
    "created": "Created",
    "empty_title": "No projects yet",
    "empty_body": "A project groups prompts that belong together, such as a client job or a "
    "series. Make one with the form, then pick it when you write or edit a prompt.",
    "new": "New project",
    "create_failed": "The project was not created:",
    "name": "Name",
    "description": "Description",
    "optional": "optional",
    "create": "Create project",
    "hint": "Names are unique among your projects.",
    "breadcrumb": "You are here",
    "open_gallery": "Open in the gallery",
    "open_timeline": "Open in the timeline",
    "portfolio_from_project": "New portfolio from this project",
    "no_portfolios": "No portfolios in this project yet. Make one from its outputs with the "
    "button above.",
    "outputs": "Newest outputs",
    "see_all": "See all {n} outputs in the gallery",
    "no_outputs_title": "No outputs in this project yet",
    "no_outputs_body": "Give a prompt this project and generate images from it, or upload "
    "images to one of its prompts. They appear here.",
    "go_gallery": "Go to the gallery",
}

KO = {
    "your_projects": "내 프로젝트",
    "prompt_count": "프롬프트 {n}개",
    "output_count": "결과물 {n}개",
    "created": "만든 날:",
    "empty_title": "아직 프로젝트가 없습니다",
    "empty_body": "프로젝트는 클라이언트 작업이나 연작처럼 함께 묶이는 프롬프트의 모음입니다. "
    "양식으로 하나 만든 뒤, 프롬프트를 쓰거나 고칠 때 선택하세요.",
    "new": "새 프로젝트",
    "create_failed": "프로젝트를 만들지 못했습니다:",
    "name": "이름",
    "description": "설명",
    "optional": "선택",
    "create": "프로젝트 만들기",
    "hint": "프로젝트 이름은 서로 겹칠 수 없습니다.",
    "breadcrumb": "현재 위치",
    "open_gallery": "갤러리에서 보기",
    "open_timeline": "타임라인에서 보기",
    "portfolio_from_project": "이 프로젝트로 새 포트폴리오",
    "no_portfolios": "이 프로젝트에는 아직 포트폴리오가 없습니다. 위 버튼으로 결과물을 모아 "
    "만들어 보세요.",
    "outputs": "최근 결과물",
    "see_all": "갤러리에서 결과물 {n}개 모두 보기",
    "no_outputs_title": "이 프로젝트에는 아직 결과물이 없습니다",
    "no_outputs_body": "프롬프트에 이 프로젝트를 지정하고 이미지를 생성하거나, 프롬프트에 "
    "이미지를 올리세요. 그러면 여기에 나타납니다.",
    "go_gallery": "갤러리로 가기",
}
