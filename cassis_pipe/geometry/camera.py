"""CaSSIS frame camera: one exposure at one ephemeris time, image <-> Mars body-fixed ground.

Attitude chain (ISD / SPICE): ``FSA <- C <- Ry(delta) <- TEL <- Q(t) <- J2000`` where ``Q`` are
the ISD quaternions (J2000 -> TGO_CASSIS_TEL), ``C`` the constant rotation TEL -> FSA and
``Ry(delta)`` the rotation-mechanism offset (deg, frame rotation about TEL +Y, same sense as the
commanded angle). Body-fixed is IAU_MARS (km, Mars-centred). Light time and stellar aberration
are not applied beyond what the ISD positions already contain.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..instrument.constants import NAIF_FSA_FRAME, NAIF_TEL_FRAME
from ..instrument.detector import Window
from ..instrument.frames import default_frames, frame_rotation
from ..instrument.optics import Optics, default_optics
from .ellipsoid import HeightFn, intersect_dem, surface_normal, xyz_to_latlon
from .interp import interpolate_positions, quat_to_matrix, slerp_quaternions
from .isd import Isd
from .projection import CameraArrays, detector_to_ground, ground_to_detector


@dataclass(frozen=True, eq=False)
class FrameCamera:
    """Geometry of one CaSSIS exposure. Image coordinates are window-image (binned, 0-based,
    integer pixel centres) when ``window`` is set, else detector coordinates."""

    et: float
    """Ephemeris time (TDB s past J2000) of the exposure."""
    position_km: np.ndarray
    """Sensor position, body-fixed km."""
    velocity_kms: np.ndarray
    """Sensor velocity relative to the rotating Mars body-fixed frame (km/s)."""
    tel_from_bf: np.ndarray
    """Body-fixed -> TGO_CASSIS_TEL (as given by the ISD, commanded mechanism angle)."""
    fsa_from_tel: np.ndarray
    """TGO_CASSIS_TEL -> TGO_CASSIS_FSA (constant)."""
    sun_position_km: np.ndarray
    """Sun position relative to Mars, body-fixed km."""
    optics: Optics
    window: Window | None = None
    radii_km: tuple[float, float] = (3396.19, 3376.2)
    rotation_offset_deg: float = 0.0

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_isd(cls, isd: Isd, optics: Optics | None = None, window: Window | None = None,
                 et: float | None = None) -> FrameCamera:
        """Camera at ``et`` (default the ISD centre time). ``optics`` default: from the ISD's
        naif_keywords (addendum values)."""
        t = isd.center_ephemeris_time if et is None else float(et)
        if optics is None:
            try:
                optics = Optics.from_pool(isd.naif_keywords)
            except KeyError:
                optics = default_optics()
        ip = isd.instrument_position
        pos_j, vel_j = interpolate_positions(ip.times, ip.positions, ip.velocities, t)
        sp = isd.sun_position
        sun_j, _ = interpolate_positions(sp.times, sp.positions, sp.velocities, t)
        br = isd.body_rotation
        bf_from_j = quat_to_matrix(slerp_quaternions(br.times, br.quaternions, t)[0])
        pt = isd.instrument_pointing
        frame0_from_j = quat_to_matrix(slerp_quaternions(pt.times, pt.quaternions, t)[0])
        const = np.eye(3) if pt.constant_rotation is None else pt.constant_rotation
        first = pt.time_dependent_frames[0] if pt.time_dependent_frames else NAIF_TEL_FRAME
        sensor = pt.constant_frames[0] if pt.constant_frames else first
        if first == NAIF_TEL_FRAME and sensor == NAIF_FSA_FRAME:
            tel_from_j, fsa_from_tel = frame0_from_j, const
        elif sensor == NAIF_FSA_FRAME:
            # pointing given to some other frame: go through the FK's fixed TEL -> FSA
            fsa_from_tel = default_frames().fsa_from_tel
            tel_from_j = fsa_from_tel.T @ const @ frame0_from_j
        else:
            raise ValueError(f"ISD pointing ends in frame {sensor}, expected {NAIF_FSA_FRAME}")
        omega_j = _body_rate_j2000(isd, t)
        vel_bf = bf_from_j @ (vel_j[0] - np.cross(omega_j, pos_j[0]))
        return cls(et=t, position_km=bf_from_j @ pos_j[0], velocity_kms=vel_bf,
                   tel_from_bf=tel_from_j @ bf_from_j.T, fsa_from_tel=np.asarray(fsa_from_tel),
                   sun_position_km=bf_from_j @ sun_j[0], optics=optics, window=window,
                   radii_km=isd.radii_km)

    def with_rotation_offset(self, delta_deg: float) -> FrameCamera:
        """Copy with the rotation-mechanism offset set to ``delta_deg`` (absolute, deg, about
        TEL +Y on top of the ISD pointing)."""
        return dataclasses.replace(self, rotation_offset_deg=float(delta_deg))

    def with_window(self, window: Window | None) -> FrameCamera:
        """Copy using ``window`` image coordinates (None: detector coordinates)."""
        return dataclasses.replace(self, window=window)

    # -- attitude -----------------------------------------------------------------------
    @property
    def fsa_from_bf(self) -> np.ndarray:
        """Body-fixed -> FSA including the rotation offset."""
        return self.fsa_from_tel @ frame_rotation(self.rotation_offset_deg, 2) @ self.tel_from_bf

    @property
    def bf_from_fsa(self) -> np.ndarray:
        """FSA -> body-fixed (columns: FSA axes in body-fixed coordinates)."""
        return np.ascontiguousarray(self.fsa_from_bf.T)

    @property
    def rotation_axis_bf(self) -> np.ndarray:
        """Rotation-mechanism axis (TEL +Y) in body-fixed coordinates."""
        return self.tel_from_bf.T @ np.array([0.0, 1.0, 0.0])

    # -- coordinates ------------------------------------------------------------------------
    def _to_detector(self, line: np.ndarray, sample: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        line = np.asarray(line, dtype=np.float64)
        sample = np.asarray(sample, dtype=np.float64)
        if self.window is not None:
            return self.window.to_detector(line, sample)
        return line, sample

    def _from_detector(self, line: np.ndarray, sample: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
        if self.window is not None:
            return self.window.from_detector(line, sample)
        return line, sample

    def look_directions(self, line: np.ndarray, sample: np.ndarray) -> np.ndarray:
        """Unit look vectors (..., 3), body-fixed, for image coordinates."""
        dl, ds = self._to_detector(line, sample)
        return self.optics.pixel_to_ray(dl, ds) @ self.fsa_from_bf

    def image_to_ground(self, line: np.ndarray, sample: np.ndarray,
                        dem: HeightFn | None = None) -> np.ndarray:
        """Image (line, sample) -> ground points (..., 3), body-fixed km; NaN off-planet.
        ``dem(lat_deg, lon_deg) -> height_km`` above the ellipsoid refines the intersection."""
        dl, ds = self._to_detector(line, sample)
        dl, ds = np.broadcast_arrays(dl, ds)
        shape = dl.shape
        if dem is None:
            pts = detector_to_ground(np.ascontiguousarray(dl).ravel(),
                                     np.ascontiguousarray(ds).ravel(), self.arrays())
        else:
            a, c = self.radii_km
            dirs = self.look_directions(line, sample).reshape(-1, 3)
            pts = intersect_dem(self.position_km, dirs, dem, a, c)
        return pts.reshape(shape + (3,))

    def ground_to_image(self, xyz: np.ndarray, check_visible: bool = True
                        ) -> tuple[np.ndarray, np.ndarray]:
        """Ground points (..., 3) body-fixed km -> image (line, sample); NaN if behind the
        camera or (``check_visible``) on the far side of the ellipsoid."""
        xyz = np.asarray(xyz, dtype=np.float64)
        shape = xyz.shape[:-1]
        dl, ds = ground_to_detector(np.ascontiguousarray(xyz.reshape(-1, 3)), self.arrays(),
                                    bool(check_visible))
        line, sample = self._from_detector(dl, ds)
        return line.reshape(shape), sample.reshape(shape)

    def arrays(self, shape: tuple[int, int] | None = None) -> CameraArrays:
        """This camera flattened for the numba kernels (km, mm, radians); ``shape`` the image
        (lines, samples) of the window (default :meth:`image_shape`)."""
        o = self.optics
        w = self.window
        row0, col0, b = (w.row0, w.col0, w.binning) if w is not None else (0, 0, 1)
        lines, samples = self.image_shape() if shape is None else shape
        a, c = (float(r) for r in self.radii_km)
        return CameraArrays(
            p=np.ascontiguousarray(o.params, dtype=np.float64),
            corr=np.ascontiguousarray(o.corr, dtype=np.float64),
            dist=np.ascontiguousarray(o.dist, dtype=np.float64),
            iterations=int(o.newton_iterations), m=np.ascontiguousarray(self.bf_from_fsa),
            origin=np.ascontiguousarray(self.position_km, dtype=np.float64), a=a, c=c,
            win=np.array([row0, col0, b, int(lines), int(samples)], dtype=np.float64))

    def image_shape(self) -> tuple[int, int]:
        """(lines, samples) of the image in use (window binned shape or full detector)."""
        return self.window.binned_shape if self.window is not None else (2048, 2048)

    # -- angles -----------------------------------------------------------------------------
    def illumination_angles(self, xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(incidence, emission, phase) in deg at ground points (..., 3) body-fixed km, against
        the ellipsoid normal."""
        xyz = np.asarray(xyz, dtype=np.float64)
        a, c = self.radii_km
        nrm = surface_normal(xyz, a, c)
        to_sun = _unit(self.sun_position_km - xyz)
        to_sc = _unit(self.position_km - xyz)
        inc = _angle(nrm, to_sun)
        emi = _angle(nrm, to_sc)
        pha = _angle(to_sun, to_sc)
        return inc, emi, pha

    def sub_spacecraft_point(self) -> tuple[float, float]:
        """Planetocentric (lat, east lon) in deg of the ellipsoid point below the sensor (along
        the line to Mars' centre)."""
        lat, lon, _ = xyz_to_latlon(self.position_km)
        return float(lat), float(lon)

    def off_nadir_angle(self, line: float | None = None, sample: float | None = None) -> float:
        """Angle (deg) between the look direction and the nadir (towards Mars' centre). Default
        look direction: the optical axis (FSA +Z)."""
        if line is None or sample is None:
            look = self.bf_from_fsa[:, 2]
        else:
            look = self.look_directions(np.array([line]), np.array([sample]))[0]
        return float(_angle(look, -_unit(self.position_km)))

    def ground_track_velocity(self) -> float:
        """Speed (km/s) of the sub-spacecraft point over the surface: horizontal body-fixed
        velocity scaled from the orbit radius to the equatorial radius."""
        r = self.position_km
        rh = _unit(r)
        vh = self.velocity_kms - np.dot(self.velocity_kms, rh) * rh
        return float(np.linalg.norm(vh) * self.radii_km[0] / np.linalg.norm(r))

    def boresight_ground(self) -> np.ndarray:
        """Ground point (3,) of the optical axis (NaN if it misses Mars)."""
        o = self.optics
        if self.window is None:
            return self.image_to_ground(np.array([o.boresight_line]),
                                        np.array([o.boresight_sample]))[0]
        return self.with_window(None).image_to_ground(np.array([o.boresight_line]),
                                                      np.array([o.boresight_sample]))[0]


def _body_rate_j2000(isd: Isd, t: float) -> np.ndarray:
    """Mars angular velocity (rad/s, J2000 axes) from the ISD body-rotation table."""
    br = isd.body_rotation
    if br.angular_velocities is not None:
        k = int(np.clip(np.searchsorted(br.times, t), 0, len(br.times) - 1))
        return np.asarray(br.angular_velocities[k], dtype=np.float64)
    if len(br.times) >= 2:
        dt = 1.0
        m0 = quat_to_matrix(slerp_quaternions(br.times, br.quaternions, t - dt)[0])
        m1 = quat_to_matrix(slerp_quaternions(br.times, br.quaternions, t + dt)[0])
        w = (m1 - m0) / (2 * dt) @ m0.T  # skew matrix in body-fixed axes: dM/dt M^T = -[w]x
        w_bf = np.array([w[1, 2], w[2, 0], w[0, 1]])
        return m0.T @ w_bf
    return np.zeros(3)


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _angle(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    cross = np.linalg.norm(np.cross(u, v), axis=-1)
    dot = np.sum(u * v, axis=-1)
    return np.degrees(np.arctan2(cross, dot))
