// gridgov placeholder page: the county's villages and township outlines on a MapLibre map.
//
// The page requests nothing but the gridgov server: MapLibre itself comes from
// /vendor/maplibre-gl/, the style has only a background layer (no tiles, no glyphs, no
// sprites), and the features come from the layers API as GeoJSON. Without glyphs the map
// draws no text: a village's name shows in a popup and in the side panel when it is
// clicked, on the map or in the list.

const maplibregl = window.maplibregl;

const VILLAGES_URL = '/api/v1/layers/villages/items?limit=1000';
const TOWNSHIPS_URL = '/api/v1/layers/townships/items?limit=1000';

// Soft fill colours, given to the villages in code order so that neighbours differ.
const PALETTE = [
  '#8dd3c7', '#ffffb3', '#bebada', '#fb8072', '#80b1d3', '#fdb462',
  '#b3de69', '#fccde5', '#d9d9d9', '#bc80bd', '#ccebc5', '#ffed6f',
];

const UI_STRINGS = {
  'Map.Title': '地图',
  'NavigationControl.ZoomIn': '放大',
  'NavigationControl.ZoomOut': '缩小',
  'NavigationControl.ResetBearing': '拖动旋转地图，点击恢复正北',
  'Popup.Close': '关闭',
  'ScaleControl.Meters': '米',
  'ScaleControl.Kilometers': '公里',
};

// Chinese labels of the village kinds (the `village kind` vocabulary).
const VILLAGE_KINDS = { village: '行政村', community: '社区' };

const statusEl = document.getElementById('status');
const selectionEl = document.getElementById('selection');
const listEl = document.getElementById('village-list');
const countEl = document.getElementById('village-count');

function setState(state, message) {
  document.body.dataset.state = state;
  statusEl.textContent = message;
}

async function getGeoJSON(url) {
  const response = await fetch(url, { headers: { Accept: 'application/geo+json, application/json' } });
  if (!response.ok) {
    const err = new Error(`${url}: HTTP ${response.status}`);
    err.status = response.status;
    throw err;
  }
  const body = await response.json();
  if (body?.type !== 'FeatureCollection' || !Array.isArray(body.features)) {
    throw new Error(`${url}: the answer is not a GeoJSON FeatureCollection`);
  }
  return body;
}

// Calls visit(lng, lat) for each position of a GeoJSON geometry.
function eachPosition(geometry, visit) {
  if (!geometry) return;
  if (geometry.type === 'GeometryCollection') {
    geometry.geometries.forEach((g) => eachPosition(g, visit));
    return;
  }
  const walk = (coords) => {
    if (typeof coords[0] === 'number') {
      visit(coords[0], coords[1]);
    } else {
      coords.forEach(walk);
    }
  };
  if (geometry.coordinates) walk(geometry.coordinates);
}

function boundsOf(features) {
  const bounds = new maplibregl.LngLatBounds();
  let any = false;
  for (const feature of features) {
    eachPosition(feature.geometry, (lng, lat) => {
      bounds.extend([lng, lat]);
      any = true;
    });
  }
  return any ? bounds : null;
}

// The township a village belongs to: the one whose code shares its first 9 digits.
function townshipKey(code) {
  return typeof code === 'string' ? code.slice(0, 9) : '';
}

function element(tag, props = {}, children = []) {
  const el = document.createElement(tag);
  Object.assign(el, props);
  for (const child of children) el.append(child);
  return el;
}

function main() {
  if (!maplibregl) {
    setState('error', '加载失败：地图库 MapLibre 未能加载');
    console.error('maplibregl is not defined: /vendor/maplibre-gl/maplibre-gl.js did not load');
    return;
  }

  const map = new maplibregl.Map({
    container: 'map',
    style: {
      version: 8,
      sources: {},
      layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#eef1ea' } }],
    },
    center: [104, 35],
    zoom: 3,
    attributionControl: false,
    locale: UI_STRINGS,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
  // For the browser tests and for poking around in the console.
  window.gridgov = { map };

  const mapLoaded = new Promise((resolve) => map.once('load', resolve));
  const villagesLoaded = getGeoJSON(VILLAGES_URL);
  const townshipsLoaded = getGeoJSON(TOWNSHIPS_URL);

  Promise.all([mapLoaded, villagesLoaded, townshipsLoaded])
    .then(([, villages, townships]) => show(map, villages, townships))
    .catch((err) => {
      if (err.status === 401) {
        showSignIn();
        return;
      }
      setState('error', `加载失败：${err.message}`);
      console.error(err);
    });
}

// Without a session the server answers nothing but the login: a sign-in form, which sets the
// session cookie (HttpOnly) and reloads the page.
function showSignIn() {
  setState('signin', '请登录');
  const name = element('input', { id: 'signin-name', name: 'username', autocomplete: 'username', required: true });
  const password = element('input', {
    id: 'signin-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true,
  });
  const message = element('p', { className: 'hint', role: 'alert' });
  const form = element('form', { id: 'signin' }, [
    element('h2', { textContent: '登录' }),
    element('label', { htmlFor: 'signin-name', textContent: '用户名' }), name,
    element('label', { htmlFor: 'signin-password', textContent: '密码' }), password,
    element('button', { type: 'submit', textContent: '登录' }),
    message,
  ]);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    message.textContent = '';
    const response = await fetch('/api/v1/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: name.value, password: password.value }),
    });
    if (response.ok) {
      window.location.reload();
    } else {
      message.textContent = '用户名或密码错误，或失败次数过多：请稍后再试。';
    }
  });
  selectionEl.replaceChildren(form);
}

function show(map, villages, townships) {
  villages.features.sort((a, b) => String(a.properties?.code).localeCompare(String(b.properties?.code)));
  villages.features.forEach((feature, i) => {
    feature.properties = { ...feature.properties, _colour: PALETTE[i % PALETTE.length] };
  });
  const byCode = new Map(villages.features.map((f) => [f.properties.code, f]));
  const townshipNames = new Map(
    townships.features.map((f) => [townshipKey(f.properties?.code), f.properties?.name]),
  );

  map.addSource('villages', { type: 'geojson', data: villages });
  map.addSource('townships', { type: 'geojson', data: townships });
  map.addLayer({
    id: 'villages-fill',
    type: 'fill',
    source: 'villages',
    filter: ['in', ['geometry-type'], ['literal', ['Polygon', 'MultiPolygon']]],
    paint: { 'fill-color': ['get', '_colour'], 'fill-opacity': 0.75 },
  });
  map.addLayer({
    id: 'villages-point',
    type: 'circle',
    source: 'villages',
    filter: ['in', ['geometry-type'], ['literal', ['Point', 'MultiPoint']]],
    paint: {
      'circle-color': ['get', '_colour'],
      'circle-radius': 6,
      'circle-stroke-color': '#4a5a52',
      'circle-stroke-width': 1,
    },
  });
  map.addLayer({
    id: 'villages-line',
    type: 'line',
    source: 'villages',
    paint: { 'line-color': '#6f7d76', 'line-width': 0.8 },
  });
  map.addLayer({
    id: 'townships-line',
    type: 'line',
    source: 'townships',
    paint: { 'line-color': '#2d3b35', 'line-width': 2 },
  });
  map.addLayer({
    id: 'village-selected',
    type: 'line',
    source: 'villages',
    filter: ['==', ['get', 'code'], ''],
    paint: { 'line-color': '#b3261e', 'line-width': 3 },
  });

  const bounds = boundsOf(villages.features) ?? boundsOf(townships.features);
  if (bounds) {
    map.fitBounds(bounds, { padding: 24, animate: false });
  }

  // Whether the whole of these bounds is on screen.
  function inView(b) {
    const view = map.getBounds();
    return view.contains(b.getSouthWest()) && view.contains(b.getNorthEast());
  }

  const popup = new maplibregl.Popup({ closeButton: true, maxWidth: '260px' });
  const buttons = new Map();

  function select(code, lngLat, fly) {
    const feature = byCode.get(code);
    if (!feature) return;
    const { name, kind } = feature.properties;
    const township = townshipNames.get(townshipKey(code));

    map.setFilter('village-selected', ['==', ['get', 'code'], code]);
    for (const [c, button] of buttons) {
      button.setAttribute('aria-current', c === code ? 'true' : 'false');
    }
    buttons.get(code)?.scrollIntoView({ block: 'nearest' });

    const rows = [['代码', code]];
    if (township) rows.push(['乡镇', township]);
    if (kind) rows.push(['类型', VILLAGE_KINDS[kind] ?? kind]);
    selectionEl.replaceChildren(
      element('h2', { textContent: '选中的村' }),
      element('p', { className: 'name', textContent: name }),
      element('dl', {}, rows.flatMap(([k, v]) => [
        element('dt', { textContent: k }),
        element('dd', { textContent: v }),
      ])),
    );

    const featureBounds = boundsOf([feature]);
    const at = lngLat ?? featureBounds?.getCenter();
    if (fly && featureBounds && !inView(featureBounds)) {
      map.fitBounds(featureBounds, { padding: 80, maxZoom: Math.max(map.getZoom(), 12), duration: 500 });
    }
    if (at) {
      popup
        .setLngLat(at)
        .setDOMContent(element('div', {}, [
          element('div', { className: 'popup-name', textContent: name }),
          element('div', { className: 'popup-code', textContent: code }),
        ]))
        .addTo(map);
    }
  }

  for (const layer of ['villages-fill', 'villages-point']) {
    map.on('click', layer, (e) => {
      const code = e.features?.[0]?.properties?.code;
      if (code) select(code, e.lngLat, false);
    });
    map.on('mouseenter', layer, () => { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', layer, () => { map.getCanvas().style.cursor = ''; });
  }

  // The side list: villages grouped under their townships, in code order.
  const groups = new Map();
  for (const feature of villages.features) {
    const key = townshipKey(feature.properties.code);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(feature);
  }
  const sections = [];
  for (const [key, features] of groups) {
    const items = features.map((feature) => {
      const { code, name } = feature.properties;
      const button = element('button', { type: 'button', textContent: name, title: code });
      button.addEventListener('click', () => select(code, null, true));
      buttons.set(code, button);
      return element('li', {}, [button]);
    });
    sections.push(element('section', { className: 'township' }, [
      element('h3', { textContent: townshipNames.get(key) ?? '其他' }),
      element('ul', {}, items),
    ]));
  }
  listEl.replaceChildren(...sections);
  countEl.textContent = `（${villages.features.length}）`;

  const matched = villages.numberMatched;
  const more = typeof matched === 'number' && matched > villages.features.length
    ? `，共 ${matched} 个，仅显示前 ${villages.features.length} 个`
    : '';
  map.once('idle', () => {
    setState('ready', `${townships.features.length} 个乡镇，${villages.features.length} 个行政村/社区${more}`);
  });
}

main();
