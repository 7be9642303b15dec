"""Shared helpers for the mapping tests (no tests here): a realistic camera from the flown
ISD and an analytic scene defined on map coordinates."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cassis_pipe.geometry.camera import FrameCamera
from cassis_pipe.geometry.ellipsoid import xyz_to_latlon
from cassis_pipe.geometry.isd import read_isd
from cassis_pipe.instrument.detector import Window
from cassis_pipe.mapping.grid import MapGrid

ISD = "geometry/CAS-MCO-2016-11-26T22.32.14.582-RED-01000-B1_isd.json"
WINDOW = Window("RED", 712, 967, 768, 1279)
"""RED strip cropped to 512 columns (flown ISD: ~21 x 42 m ground pixels, 50 deg off nadir)."""
LAMBDA_X_M = 700.0
LAMBDA_Y_M = 900.0


def flown_camera(data_dir: Path, window: Window = WINDOW, dt_s: float = 0.0) -> FrameCamera:
    isd = read_isd(data_dir / ISD)
    return FrameCamera.from_isd(isd, window=window, et=isd.center_ephemeris_time + dt_s)


def scene(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Analytic radiance on map coordinates (m)."""
    return 1.0 + 0.4 * np.sin(2 * np.pi * x / LAMBDA_X_M) * np.cos(2 * np.pi * y / LAMBDA_Y_M)


def scene_gradient(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    kx, ky = 2 * np.pi / LAMBDA_X_M, 2 * np.pi / LAMBDA_Y_M
    return (0.4 * kx * np.cos(kx * x) * np.cos(ky * y), -0.4 * ky * np.sin(kx * x) * np.sin(ky * y))


def render(cam: FrameCamera, grid: MapGrid, shift_lines: float = 0.0) -> np.ndarray:
    """Framelet image of the scene, point-sampled at each pixel centre's ground point
    (``shift_lines`` offsets the sampling to emulate a geolocation error)."""
    nl, ns = cam.image_shape()
    li, si = np.meshgrid(np.arange(nl, dtype=float) + shift_lines, np.arange(ns, dtype=float),
                         indexing="ij")
    lat, lon, _ = xyz_to_latlon(cam.image_to_ground(li, si))
    x, y = grid.projection.forward(lat, lon, x_ref_m=grid.center_xy[0])
    return scene(x, y).astype(np.float32)


def map_truth(grid: MapGrid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(scene, x, y) at every map pixel centre."""
    i, j = np.meshgrid(np.arange(grid.lines, dtype=float), np.arange(grid.samples, dtype=float),
                       indexing="ij")
    x, y = grid.index_to_xy(i, j)
    return scene(x, y), x, y


def shift_estimate(mapped: np.ndarray, grid: MapGrid, ok: np.ndarray) -> tuple[float, float]:
    """Least-squares (dx, dy) in map pixels such that mapped(x) = scene(x - d)."""
    truth, x, y = map_truth(grid)
    gx, gy = scene_gradient(x[ok], y[ok])
    r = mapped[ok] - truth[ok]
    a = np.array([[np.sum(gx * gx), np.sum(gx * gy)], [np.sum(gx * gy), np.sum(gy * gy)]])
    d = np.linalg.solve(a, -np.array([np.sum(r * gx), np.sum(r * gy)]))
    return float(d[0] / grid.pixel_m), float(d[1] / grid.pixel_m)


def nadir_camera(lat_deg: float, lon_deg: float, altitude_km: float = 400.0,
                 window: Window = WINDOW, yaw_deg: float = 0.0) -> FrameCamera:
    """Synthetic nadir-looking camera above (lat, lon): FSA +Z to the centre of Mars, +Y to
    local north turned by ``yaw_deg``; ~4.6 m ground pixels at 400 km (the TGO science orbit)."""
    from cassis_pipe.geometry.ellipsoid import surface_point
    from cassis_pipe.instrument.optics import default_optics

    ground = surface_point(np.array(lat_deg), np.array(lon_deg))
    up = ground / np.linalg.norm(ground)
    pos = ground + altitude_km * up
    north = np.array([0.0, 0.0, 1.0]) - up[2] * up
    north /= np.linalg.norm(north)
    east = np.cross(north, up)
    yaw = np.radians(yaw_deg)
    y_ax = np.cos(yaw) * north + np.sin(yaw) * east
    z_ax = -up
    x_ax = np.cross(y_ax, z_ax)
    fsa_from_bf = np.array([x_ax, y_ax, z_ax])
    return FrameCamera(et=0.0, position_km=pos, velocity_kms=3.4 * y_ax, tel_from_bf=fsa_from_bf,
                       fsa_from_tel=np.eye(3), sun_position_km=2.3e8 * up, optics=default_optics(),
                       window=window)
