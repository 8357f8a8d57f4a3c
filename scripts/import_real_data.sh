#!/usr/bin/env bash
# Import the public data sets of /work/shared/data/real (docs/importing.md, "Real data sets") into
# the database named by DATABASE_URL, FLUSHED first; each import is run twice and the second run's
# counts and the history rows it added are printed (expected: created 0, updated 0, 0 history rows).
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_x scripts/import_real_data.sh [STEP...]
set -uo pipefail
export DEBUG=1
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
R=${REAL_DATA:-/work/shared/data/real}
OUT=${OUT:-var/real-data}
mkdir -p "$OUT"
M() { DEBUG=1 .venv/bin/python manage.py "$@"; }
DB="${DATABASE_URL##*/}"
history() {  # every history row of every record
  psql -h 127.0.0.1 -U postgres -d "$DB" -Atc "SELECT string_agg('SELECT count(*) FROM '||quote_ident(table_name), ' UNION ALL ') FROM information_schema.tables WHERE table_schema='public' AND table_name LIKE '%historical%'" \
    | { read -r q; psql -h 127.0.0.1 -U postgres -d "$DB" -Atc "SELECT sum(count) FROM ($q) t"; }
}
step() {  # step NAME KIND FILE ARGS...
  local name=$1 kind=$2 file=$3; shift 3
  echo "=== $name"
  local t0 t1 h0 h1
  t0=$(date +%s.%N)
  M import_data "$kind" "$file" --user importer --skip-invalid --bad-rows "$OUT/$name-bad-rows.${file##*.}" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"
  echo "exit $?"; t1=$(date +%s.%N)
  grep -E "rows read|rows/s|Imported|bad row" "$OUT/$name.out"; echo "errors: $(grep -c . "$OUT/$name.err")"
  echo "import: $(echo "$t1 - $t0" | bc) s"
  h0=$(history); t0=$(date +%s.%N)
  M import_data "$kind" "$file" --user importer --skip-invalid --bad-rows "$OUT/$name-again-bad-rows.${file##*.}" "$@" >"$OUT/$name-again.out" 2>"$OUT/$name-again.err"
  echo "exit $?"; t1=$(date +%s.%N); h1=$(history)
  grep -E "rows read|rows/s|Imported" "$OUT/$name-again.out"
  echo "re-import: $(echo "$t1 - $t0" | bc) s, history rows added: $((h1 - h0))"
}
fresh() {  # each data set on an empty database (SHARED=1: all of them in one, without flushing)
  [[ "${SHARED:-0}" == 1 && -n "${FLUSHED:-}" ]] && return
  echo "--- flush"
  M migrate -v0 && M flush --noinput || exit 2
  M shell -c "
from django.contrib.auth.models import Group; from django.contrib.auth import get_user_model
u, _ = get_user_model().objects.get_or_create(username='importer'); u.groups.add(Group.objects.get(name='officer'))"
  FLUSHED=1
}
want() { [[ " ${STEPS} " == *" $1 "* ]]; }
STEPS="${*:-networks cities memberships missions sister-destinations sister-origins governments visitors visits trips gifts mayor}"
CN=$R/city-networks/city_network_memberships.csv
want networks && fresh && step networks partners "$CN" \
  --map name=network_name --map country=- --map city=- --map website=- --map description=- --map topics=- \
  --map priority=- --map owner=- --map status=- --map parent=- --map external_id=- --map kind=- --set kind=city_network
want cities && step cities partners "$CN" \
  --map name=member_city --map country=country --map city=member_city --map website=- --map description=- --map topics=- \
  --map priority=- --map owner=- --map status=- --map parent=- --map external_id=- --map kind=- --set kind=city
want memberships && step memberships agreements "$CN" \
  --map "title={network} membership: {member_city}" --map "partners={network_name}; {member_city}" \
  --map kind=- --map signed_on=- --map expires_on=- --map notice_by=- --map status=- --map summary=- --map owner=- \
  --set kind=network_membership --set status=in_force
DM=$R/diplomatic-missions-us/diplomatic_missions_in_us.csv
want missions && fresh && step missions partners "$DM" \
  --map "name={operator} {type} in {city}" --map country=operator --map city=city --map website=website \
  --map external_id=QID --map description=- --map topics=- --map priority=- --map owner=- --map status=- --map parent=- \
  --map kind=- --set kind=diplomatic_mission
SC=$R/sister-cities-wikidata/sistercities.tsv
want sister-destinations && fresh && step sister-destinations partners "$SC" \
  --map name=sistercityLabel --map country=destination_countryLabel --map city=sistercityLabel \
  --map website=- --map description=- --map topics=- --map priority=- --map owner=- --map status=- --map parent=- \
  --map external_id=- --map kind=- --set kind=city
want sister-origins && step sister-origins partners "$SC" \
  --map name=origincityLabel --map country=origincountry --map city=origincityLabel \
  --map website=- --map description=- --map topics=- --map priority=- --map owner=- --map status=- --map parent=- \
  --map external_id=- --map kind=- --set kind=city
LV=$R/us-foreign-leader-visits/visits.csv
want governments && fresh && step governments partners "$LV" \
  --map name=country --map country=country --map city=- --map website=- --map description=- --map topics=- \
  --map priority=- --map owner=- --map status=- --map parent=- --map external_id=- --map kind=- --set kind=national_government
want visitors && step visitors contacts "$LV" \
  --map partner=country --map full_name=visitor --map honorific=- --map title=- --map email=- --map phone=- \
  --map languages=- --map protocol_notes=- --map is_active=- --map external_id=-
want visits && step visits engagements "$LV" \
  --map "title=Visit of {visitor}" --map starts_at=start_date --map ends_at=end_date --map partners=country \
  --map contacts=- --map summary=description --map kind=- --map status=- --map location=- --map is_virtual=- \
  --map staff=- --map city_officials=- --map topics=- --map outcomes=- --map confidentiality=- --map follow_up_by=- \
  --map venue_timezone=- \
  --set kind=visit_received --set status=held
TR=$R/us-official-travel-abroad/trips.csv
want trips && fresh && step trips missions "$TR" \
  --map "name={name}: {country}" --map start_date=start_date --map end_date=end_date --map cities=locale \
  --map lead=name --map objectives=remarks --map direction=- --map owner=- --map partners=- --map delegates=- \
  --map outcomes=- --map status=- --set direction=outbound --set status=completed
GF=$R/us-foreign-gifts/gifts.csv
want gifts && fresh && step gifts gifts "$GF" \
  --map "exchanged_on={year_received}-01-01" --map direction=- --map giver=donor --map recipient=recipient \
  --map description=gift_description --map estimated_value=value_usd --map partner=- --map engagement=- \
  --map currency=- --map disposition=- --set direction=received
MY=$R/dc-mayor-schedule/mayor_events.csv
want mayor && fresh && step mayor engagements "$MY" \
  --map title=event --map starts_at=datetime --map ends_at=- --map location=venue --map summary=comment \
  --map kind=- --map status=- --map is_virtual=- --map partners=- --map contacts=- --map staff=- --map city_officials=- \
  --map topics=- --map outcomes=- --map confidentiality=- --map follow_up_by=- --map venue_timezone=- \
  --set kind=event --set status=held
echo "=== done"
