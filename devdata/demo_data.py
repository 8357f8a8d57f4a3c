"""The demo's users, topics, partners, contacts and trade mission, as data (load_demo reads them).

The facts are public (see DOMAIN.md); the keys ('olivia', 'vietnam_pm' …) are how
load_demo's meetings, commitments and agreements name them.
"""

import datetime as dt

from engagements.models import TradeMission

DEMO_PASSWORD = "diplomacy-demo-2028"

USERS = [
    # username, first, last, role, superuser
    ("admin", "Ada", "Admin", None, True),
    ("olivia", "Olivia", "Okafor", "officer", False),
    ("marco", "Marco", "Reyes", "officer", False),
    ("sam", "Sam", "Nguyen", "staff", False),
    ("priya", "Priya", "Shah", "staff", False),
    ("victor", "Victor", "Lee", "viewer", False),
]

TOPICS = [
    "Climate and clean energy", "Trade and investment", "Transportation", "Tourism", "Major events",
    "Public health", "Gender equity", "Human rights", "Culture", "Education", "Technology", "Migration",
]

# key: (name, kind, country, city, parent key, priority, topics, owner, description)
PARTNERS = {
    "armenia": ("Government of Armenia", "national_government", "AM", "Yerevan", None, 1, ["human-rights", "culture"], "olivia",
                "Bilateral ties sharpened by the city's large Armenian diaspora."),
    "canada": ("Government of Canada", "national_government", "CA", "Ottawa", None, 2, ["trade-and-investment"], "marco", ""),
    "germany": ("Federal Government of Germany", "national_government", "DE", "Berlin", None, 2,
                ["climate-and-clean-energy", "technology"], "marco", ""),
    "ireland": ("Government of Ireland", "national_government", "IE", "Dublin", None, 2, ["culture", "tourism"], "marco", ""),
    "israel": ("Government of Israel", "national_government", "IL", "Jerusalem", None, 2, ["technology"], "olivia", ""),
    "korea": ("Government of the Republic of Korea", "national_government", "KR", "Seoul", None, 1,
              ["trade-and-investment", "technology"], "olivia", ""),
    "spain": ("Government of Spain", "national_government", "ES", "Madrid", None, 2, ["culture", "tourism"], "marco", ""),
    "vietnam": ("Government of Viet Nam", "national_government", "VN", "Hanoi", None, 1,
                ["trade-and-investment", "human-rights", "transportation"], "olivia", ""),
    "vietnam_pm": ("Office of the Prime Minister of Viet Nam", "national_government", "VN", "Hanoi", "vietnam", 1,
                   ["trade-and-investment"], "olivia", ""),
    "holy_see": ("The Holy See", "religious", "VA", "Vatican City", None, 2, ["migration", "human-rights"], "marco", ""),
    "uk": ("Government of the United Kingdom", "national_government", "GB", "London", None, 1, ["transportation"], "olivia", ""),
    "uk_dft": ("UK Department for Transport", "national_government", "GB", "London", "uk", 1,
               ["transportation", "technology"], "olivia",
               "Partner on urban transport and sustainable freight and delivery: mutual promotion of innovations, "
               "market entry for local firms, start-up exchanges."),
    "japan": ("Government of Japan", "national_government", "JP", "Tokyo", None, 1, ["climate-and-clean-energy"], "marco", ""),
    "japan_meti": ("Ministry of Economy, Trade and Industry (Japan)", "national_government", "JP", "Tokyo", "japan", 1,
                   ["climate-and-clean-energy", "trade-and-investment"], "marco",
                   "Green hydrogen cooperation meant to bring zero-carbon power to the city's grid."),
    "h2_consortium": ("Japanese Green Hydrogen Industry Consortium", "company", "JP", "Tokyo", None, 2,
                      ["climate-and-clean-energy"], "marco", "Japanese companies working with the city on green hydrogen."),
    "vietnam_airlines": ("Vietnam Airlines", "company", "VN", "Hanoi", None, 2, ["transportation", "tourism"], "sam",
                         "Invited to open nonstop service to the city's airport."),
    "mexico": ("Government of Mexico", "national_government", "MX", "Mexico City", None, 1,
               ["trade-and-investment", "migration"], "olivia", ""),
    "mexico_sre": ("Secretaría de Relaciones Exteriores (Mexico)", "national_government", "MX", "Mexico City", "mexico", 1,
                   ["culture", "climate-and-clean-energy", "education"], "olivia",
                   "Co-founder with the city of the first binational citizens' commission."),
    "consulate_mx": ("Consulate General of Mexico in Los Angeles", "diplomatic_mission", "MX", "Los Angeles", "mexico_sre", 2,
                     ["migration"], "sam", ""),
    "consulate_jp": ("Consulate General of Japan in Los Angeles", "diplomatic_mission", "JP", "Los Angeles", "japan", 2,
                     ["trade-and-investment"], "sam", ""),
    "u20": ("Urban 20 (U20)", "city_network", "", "", None, 1, ["climate-and-clean-energy"], "olivia",
            "City network that brings cities' priorities to G20 leaders; the city is a founding member."),
    "c40": ("C40 Cities", "city_network", "", "", None, 1, ["climate-and-clean-energy"], "olivia",
            "Holds members to zero-carbon plans."),
    "gender_network": ("City Network for Gender Equity", "city_network", "", "", None, 1, ["gender-equity"], "priya",
                       "First international city network for gender equity, launched November 2020."),
    "buenos_aires": ("City of Buenos Aires", "city", "AR", "Buenos Aires", None, 2, ["climate-and-clean-energy"], "priya", ""),
    "paris": ("City of Paris", "city", "FR", "Paris", None, 1, ["major-events", "climate-and-clean-energy"], "marco",
              "Olympic host city 2024; the city hosts the 2028 Games."),
    "seoul": ("Seoul Metropolitan Government", "city", "KR", "Seoul", None, 2, ["technology"], "priya", ""),
    "tokyo": ("Tokyo Metropolitan Government", "city", "JP", "Tokyo", None, 2, ["major-events", "gender-equity"], "priya", ""),
    "barcelona": ("Barcelona City Council", "city", "ES", "Barcelona", None, 2, ["gender-equity"], "priya", ""),
    "freetown": ("Freetown City Council", "city", "SL", "Freetown", None, 2, ["gender-equity"], "priya", ""),
    "london": ("Greater London Authority", "city", "GB", "London", None, 2, ["gender-equity", "transportation"], "priya", ""),
    "mexico_city": ("Government of Mexico City", "city", "MX", "Mexico City", None, 1, ["public-health", "gender-equity"],
                    "olivia", "Earthquake early-warning system the city studied."),
    "milan": ("City of Milan", "city", "IT", "Milan", None, 3, ["public-health"], "priya", ""),
    "taipei": ("Taipei City Government", "city", "TW", "Taipei", None, 3, ["public-health"], "priya",
               "Pandemic response the city learned from."),
    "finland": ("Government of Finland", "national_government", "FI", "Helsinki", None, 3, ["migration"], "marco",
                "Guaranteed-income pilot the city borrowed from."),
    "china_ndrc": ("National Development and Reform Commission (China)", "national_government", "CN", "Beijing", None, 2,
                   ["climate-and-clean-energy"], "marco", ""),
    "ioc": ("International Olympic Committee", "international_organization", "CH", "Lausanne", None, 1, ["major-events"],
            "marco", ""),
    "armenian_council": ("Armenian-American Community Council", "diaspora", "US", "Glendale", None, 2, ["human-rights"],
                         "sam", "Diaspora organization; pressed for action during the 2020 war."),
    "delegation": ("City Business Delegation 2018", "company", "US", "Los Angeles", None, 3, ["trade-and-investment"], "sam",
                   "Local business leaders who travelled with the mayor to Asia in 2018."),
}

# key: (partner key, honorific, full name, title, form of address, languages, protocol notes, in post)
CONTACTS = {
    "vn_pm": ("vietnam_pm", "H.E.", "Nguyen Xuan Phuc", "Prime Minister of Viet Nam (2016–2021)", "Your Excellency",
              "Vietnamese", "Use the interpreter; precedence as head of government.", False),
    "vn_airlines_ceo": ("vietnam_airlines", "Mr.", "Duong Tri Thanh", "President and CEO", "Mr. Thanh",
                        "Vietnamese, English", "", False),
    "uk_minister": ("uk_dft", "The Rt Hon.", "Alex Morgan", "Minister for Future of Transport", "Minister",
                    "English", "Invented contact for the demo.", True),
    "meti_dg": ("japan_meti", "Mr.", "Kenji Watanabe", "Director-General, Hydrogen Strategy", "Director-General Watanabe",
                "Japanese, English", "Bring business cards in Japanese; exchange with both hands.", True),
    "sre_undersecretary": ("mexico_sre", "Mtra.", "Lucía Hernández", "Undersecretary for North America",
                           "Señora Subsecretaria", "Spanish, English", "Prefers Spanish in formal settings.", True),
    "consul_mx": ("consulate_mx", "Cónsul General", "Marcela Ortiz", "Consul General", "Madam Consul General",
                  "Spanish, English", "Vegetarian.", True),
    "consul_jp": ("consulate_jp", "H.E.", "Hiroshi Tanaka", "Consul General of Japan", "Your Excellency",
                  "Japanese, English", "No alcohol at official lunches.", True),
    "paris_deputy": ("paris", "Mme", "Claire Dubois", "Deputy Mayor for Sport and the Olympic Games", "Madame la Maire adjointe",
                     "French, English", "", True),
    "ioc_director": ("ioc", "Mr.", "Thomas Keller", "Olympic Games Executive Director", "Mr. Keller", "German, English, French",
                     "", True),
    "delegate_port": ("delegation", "Ms.", "Rosa Alvarez", "CEO, Harbor Logistics Group", "Ms. Alvarez", "English, Spanish",
                      "", True),
    "delegate_tech": ("delegation", "Mr.", "David Park", "Founder, Pacific Clean Tech", "Mr. Park", "English, Korean", "", True),
    "armenia_pm": ("armenia", "H.E.", "Nikol Pashinyan", "Prime Minister of Armenia", "Your Excellency", "Armenian, English",
                   "", True),
    "freetown_mayor": ("freetown", "Her Worship", "Yvonne Aki-Sawyerr", "Mayor of Freetown", "Your Worship", "English", "", True),
}

MISSION = {
    "name": "2018 Mayor's trade mission to Asia",
    "direction": TradeMission.Direction.OUTBOUND,
    "countries": ["VN", "KR"],
    "cities": "Hanoi, Ho Chi Minh City, Seoul",
    "start_date": dt.date(2018, 10, 7),
    "end_date": dt.date(2018, 10, 14),
    "lead": "The Mayor",
    "objectives": "Open markets for local firms, attract direct flights to the city's airport, "
    "and deepen ties with Viet Nam and Korea.",
    "outcomes": "Invitation to Vietnamese airlines to open nonstop service; human rights raised with the Prime Minister.",
    "status": TradeMission.Status.COMPLETED,
}
