-- Create customers with varied bodies: names in several scripts, some optional fields.
dofile("base.lua")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local names = {
  "Acme Widgets", "Müller Maschinenbau GmbH", "Boulangerie Lefèvre SARL",
  "Conceição Comércio Lda", "Przedsiębiorstwo Łęcki sp. z o.o.", "Şükrü Güneş",
  "Τεχνική Παπαδόπουλος Α.Ε.", "ТОВ Торговий дім Шевченко", "株式会社山田製作所",
}
local countries = { "DE", "FR", "PT", "PL", "TR", "GR", "UA", "JP", "US" }
local created = 0

function init(args)
  seed_random()
end

function request()
  created = created + 1
  local body = string.format(
    '{"name":"%s %d-%d","email":"billing%d@example.com","phone":"+49 221 %07d",'
      .. '"country_code":"%s","city":"Köln","notes":null}',
    names[math.random(#names)], thread_number, created, created,
    math.random(9999999), countries[math.random(#countries)]
  )
  return wrk.format(nil, nil, nil, body)
end
