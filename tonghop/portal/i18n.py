"""The portal's words, Vietnamese first, English on request (the `lang` of the session).

Messages about data (issues, refusals, approval errors) come from where they are made, in both
languages; this table holds only the pages' own words. Numbers given to a word are written
the language's way ("1.234" in Vietnamese); a word whose count is 1 takes its `_one` form when
there is one (English: "1 error", "2 errors").
"""

from __future__ import annotations

from collections.abc import Callable

from validations.fmt import fmt_num

LANGS = ("vi", "en")

WORDS: dict[str, tuple[str, str]] = {
    # chrome
    "nav_form": ("Biểu mẫu", "Form"),
    "nav_submit": ("Gửi báo cáo", "Send a report"),
    "nav_submissions": ("Báo cáo đã gửi", "My submissions"),
    "nav_steward": ("Theo dõi, phê duyệt", "Steward"),
    "nav_province": ("Số liệu tổng hợp", "Figures"),
    "logout": ("Đăng xuất", "Log out"),
    "footer": (
        "Tổng hợp báo cáo phòng, chống tội phạm và tệ nạn xã hội",
        "Crime and social-evils prevention reports",
    ),
    "data_as_of": ("số liệu kho lúc", "warehouse data as of"),
    "back_home": ("Về trang chính", "Back to the start page"),
    "show": ("Xem", "Show"),
    "open": ("Xem", "Open"),
    # data entry (pages/entry.py)
    "nav_entry": ("Nhập số liệu", "Enter data"),
    "e_title": ("Nhập số liệu", "Enter the report"),
    "e_intro": (
        "Gõ số liệu thẳng vào biểu mẫu: mỗi ô được kiểm tra ngay (như khi gửi tệp) và lưu thành "
        "bản nháp trên máy chủ. Số viết kiểu Việt Nam: 1.234 là một nghìn hai trăm ba mươi tư, "
        "12,5 là mười hai phẩy năm.",
        "Type the figures into the form: each field is checked at once (as a file would be) and "
        "saved as a draft on the server. Numbers the Vietnamese way: 1.234 is one thousand two "
        "hundred thirty-four, 12,5 is twelve and a half.",
    ),
    "e_keys": (
        "Phím: Enter, Tab hoặc ↓ xuống ô dưới · Shift+Enter hoặc ↑ lên ô trên · Ctrl+Enter "
        "ghi chú, đánh dấu và lịch sử của ô",
        "Keys: Enter, Tab or ↓ to the next field · Shift+Enter or ↑ back · Ctrl+Enter for the "
        "field's comment, follow-up mark and history",
    ),
    "e_on_behalf": (
        "Bạn đang nhập thay cho {unit}: mọi thay đổi và lần gửi được ghi là của {user}.",
        "You are entering on behalf of {unit}: every change and the submission are recorded as "
        "yours ({user}).",
    ),
    "e_col_no": ("STT", "No."),
    "e_col_indicator": ("Chỉ tiêu", "Indicator"),
    "e_col_unit": ("Đơn vị tính", "Unit"),
    "e_col_value": ("Số liệu", "Value"),
    "e_col_check": ("Kiểm tra", "Check"),
    "e_col_version": ("Phiên bản", "Version"),
    "e_col_status": ("Trạng thái", "Status"),
    "e_col_by": ("Người sửa", "By"),
    "e_col_at": ("Lúc", "At"),
    "e_err": ("Lỗi", "Error"),
    "e_warn": ("Cảnh báo", "Warning"),
    "e_draft": ("Bản nháp", "Draft"),
    "e_usual": ("thường {range}", "usually {range}"),
    "e_usual_title": (
        "Khoảng số liệu không bị cảnh báo, theo {n} kỳ trước của đơn vị (trung vị {median})",
        "The values that raise no warning, from the unit's last {n} periods (median {median})",
    ),
    "e_computed": ("tính từ số liệu thành phần: {v}", "computed from the parts: {v}"),
    "e_total": ("{parts} = {v}", "{parts} = {v}"),
    "e_reading": ("đọc là {v}", "read as {v}"),
    "e_draft_none": ("Chưa có bản nháp: gõ số liệu để bắt đầu.", "No draft yet: start typing."),
    "e_from_version": (
        "Đang hiện số liệu của phiên bản {v} ({status}), nhận lúc {at}: sửa rồi gửi lại để có "
        "phiên bản mới.",
        "Showing the figures of version {v} ({status}), received at {at}: correct them and send "
        "again for a new version.",
    ),
    "e_draft_last": (
        "Bản nháp lưu lúc {at}, người sửa cuối: {by}.",
        "Draft saved at {at}, last by {by}.",
    ),
    "e_submitted": (
        "Đã gửi lúc {at} (lần gửi số {id}) và chưa sửa gì sau đó.",
        "Sent at {at} (upload {id}), unchanged since.",
    ),
    "e_copied": ("(chép từ phiên bản đã gửi)", "(copied from a stored version)"),
    "e_status_saving": ("Đang lưu…", "Saving…"),
    "e_status_saved": ("Đã lưu trên máy chủ lúc {at}.", "Saved on the server at {at}."),
    "e_status_offline": (
        "Mất kết nối: {n} số liệu đang được giữ trong trình duyệt này và sẽ tự gửi khi có mạng "
        "lại. Đừng xóa dữ liệu của trình duyệt.",
        "Offline: {n} values are kept in this browser and will be sent when the connection is "
        "back. Do not clear the browser's data.",
    ),
    "e_status_back": (
        "Đã có mạng lại: đã gửi {n} số liệu giữ trong trình duyệt.",
        "Back online: the {n} values kept in the browser were sent.",
    ),
    "e_status_others": (
        "{by} vừa sửa {label} thành {value} lúc {at}.",
        "{by} changed {label} to {value} at {at}.",
    ),
    "e_status_login": (
        "Phiên đăng nhập đã hết: đăng nhập lại ở thẻ khác; số liệu vẫn được giữ trong trình duyệt.",
        "The session ended: log in again in another tab; the values stay in this browser.",
    ),
    "e_status_failed": (
        "Máy chủ chưa lưu được ({code}); số liệu vẫn được giữ trong trình duyệt.",
        "The server could not save ({code}); the values stay in this browser.",
    ),
    "e_summary": (
        "{errors} lỗi, {warnings} cảnh báo · đã nhập {filled}/{total} chỉ tiêu",
        "{errors} errors, {warnings} warnings · {filled}/{total} filled",
    ),
    "e_missing": (
        "Còn {n} chỉ tiêu bắt buộc chưa nhập.",
        "{n} required indicators are still blank.",
    ),
    "e_validate": ("Kiểm tra toàn bộ", "Check everything"),
    "e_validate_help": (
        "Kiểm tra như khi gửi tệp: thêm so sánh với các đơn vị cùng cấp, với số liệu cùng kỳ năm "
        "trước trong kho, và cho biết phiên bản sẽ được lưu.",
        "The check a file gets: also against the units alongside, last year's figures in the "
        "warehouse, and the version it would be stored as.",
    ),
    "e_full": ("Kết quả kiểm tra toàn bộ: {status}.", "Full check: {status}."),
    "e_submit": ("Gửi báo cáo", "Submit the report"),
    "e_submit_help": (
        "Bản nháp được gửi như một tệp CSV, đúng đường của tệp tải lên: có kết quả kiểm tra, "
        "phiên bản, báo cáo và bản lưu trữ như tệp đó.",
        "The draft is sent as a CSV file through the upload's own path: it gets the verdict, "
        "version, report and archive copy that file would.",
    ),
    "e_discard": ("Bỏ bản nháp", "Discard the draft"),
    "e_discarded": ("Đã bỏ bản nháp.", "The draft was discarded."),
    "e_nothing": ("Chưa nhập số liệu nào để gửi.", "Nothing has been entered to send."),
    "e_need_online": ("Cần có mạng để gửi báo cáo.", "Sending the report needs a connection."),
    "e_details": ("Chi tiết", "Details"),
    "e_comment": ("Ghi chú", "Comment"),
    "e_follow_up": ("Đánh dấu cần xem lại", "Mark for follow-up"),
    "e_marked": ("cần xem lại", "follow-up"),
    "e_last_change": ("Sửa lần cuối: {by}, {at}", "Last changed by {by}, {at}"),
    "e_history": ("12 kỳ trước", "The last 12 periods"),
    "e_mapped": (
        "cộng từ các đơn vị trước sắp xếp năm 2025",
        "summed from the units before the 2025 reform",
    ),
    "e_versions": ("Các phiên bản đã gửi của kỳ này", "Versions sent for this period"),
    "e_changes": ("Các lần sửa trong bản nháp", "Changes in the draft"),
    "e_none_yet": ("Chưa có.", "None yet."),
    "e_pick_field": (
        "Chọn một ô để xem ghi chú, đánh dấu và lịch sử của nó.",
        "Pick a field to see its comment, follow-up mark and history.",
    ),
    "e_close": ("Đóng", "Close"),
    "e_current": ("đang dùng", "current"),
    "e_behalf": ("nhập thay", "on behalf"),
    "e_notes_title": ("Ghi chú và đánh dấu cần xem lại", "Comments and follow-up marks"),
    "e_entered": (
        "Nhập trên web bởi {by} lúc {at}.",
        "Entered on the web by {by} at {at}.",
    ),
    # login
    "login_title": ("Đăng nhập", "Log in"),
    "login_intro": (
        "Cổng gửi và tổng hợp báo cáo định kỳ. Tài khoản do cán bộ thống kê cấp.",
        "The portal for periodic reports. Accounts are issued by the statistics steward.",
    ),
    "user_name": ("Tên đăng nhập", "User name"),
    "password": ("Mật khẩu", "Password"),
    "login": ("Đăng nhập", "Log in"),
    "login_failed": ("Sai tên đăng nhập hoặc mật khẩu.", "Wrong user name or password."),
    "login_throttled": (
        "Quá nhiều lần đăng nhập sai. Thử lại sau {minutes} phút.",
        "Too many failed logins. Try again in {minutes} minutes.",
    ),
    "logged_out": ("Đã đăng xuất.", "Logged out."),
    # errors
    "forbidden": ("Không được phép", "Not allowed"),
    "forbidden_unit": (
        "Đơn vị {unit} không phải đơn vị của bạn hay đơn vị trực thuộc: bạn không xem hay thao "
        "tác được trên số liệu của đơn vị này.",
        "Unit {unit} is neither your unit nor below it: you cannot see or act on its figures.",
    ),
    "forbidden_role": (
        "Vai trò của tài khoản này không cho phép việc này.",
        "This account's role does not allow this.",
    ),
    "forbidden_csrf": (
        "Biểu mẫu đã hết hạn hoặc không đến từ trang này: tải lại trang rồi thử lại.",
        "The form expired or did not come from this site: reload the page and try again.",
    ),
    "not_found": ("Không tìm thấy", "Not found"),
    "not_found_text": ("Không có trang hay mục này.", "There is no such page or item."),
    "too_many": ("Thử lại sau", "Try again later"),
    "server_error": ("Lỗi máy chủ", "Server error"),
    "server_error_text": (
        "Có lỗi khi xử lý yêu cầu; đã ghi lại để cán bộ kỹ thuật kiểm tra. Thử lại sau ít phút.",
        "Something failed while handling the request; it was logged for the technical staff. "
        "Try again in a few minutes.",
    ),
    "bad_period": ("Kỳ báo cáo không hợp lệ", "Invalid period"),
    "no_data": (
        "Kho dữ liệu chưa có số liệu (chưa có lượt nhập nào).",
        "The warehouse holds no data yet (nothing was ingested).",
    ),
    # form
    "form_title": ("Biểu mẫu báo cáo", "Report form"),
    "unit": ("Đơn vị", "Unit"),
    "period": ("Kỳ", "Period"),
    "closing_date": ("Ngày chốt số liệu", "Closing date"),
    "deadline": ("Hạn gửi", "Deadline"),
    "days_left": ("còn {n} ngày", "{n} days left"),
    "due_today": ("hạn là hôm nay", "due today"),
    "days_over": ("đã quá hạn {n} ngày", "{n} days overdue"),
    "indicators": ("Số chỉ tiêu trên biểu", "Indicators on the form"),
    "stored_now": ("Đang lưu trong kho", "In the warehouse now"),
    "download_form": ("Tải biểu mẫu Excel", "Download the Excel form"),
    "form_help": (
        "Điền các ô màu vàng, lưu tệp .xlsx rồi gửi ở mục Gửi báo cáo. Không đổi mã chỉ tiêu, "
        "không dùng công thức trong ô số liệu.",
        "Fill in the yellow cells, save the .xlsx and send it under Send a report. Do not change "
        "the indicator codes; no formulas in value cells.",
    ),
    "no_form_unit": (
        "Đơn vị {unit} không có trong cơ cấu hành chính của kỳ {period}.",
        "Unit {unit} does not exist in the structure of period {period}.",
    ),
    # submit
    "submit_title": ("Gửi báo cáo", "Send a report"),
    "choose_file": ("Chọn tệp báo cáo (.xlsx hoặc .csv)", "Choose the report file (.xlsx or .csv)"),
    "check_and_send": ("Kiểm tra và gửi", "Check and send"),
    "submit_help": (
        "Tệp được kiểm tra ngay. Tệp đọc được và đúng đơn vị của bạn được gửi vào hộp thư của "
        "đơn vị và lưu vào kho (cả khi bị từ chối, để cán bộ thống kê thấy). Tệp tối đa 5 MB.",
        "The file is checked at once. A readable file for your unit is delivered to your unit's "
        "inbox and stored (rejected ones too, so the steward sees them). At most 5 MB.",
    ),
    "no_file": ("Chưa chọn tệp.", "No file chosen."),
    "delivery_failed": ("Không gửi được tệp: {why}", "The file could not be delivered: {why}"),
    # verdict
    "verdict_title": ("Kết quả kiểm tra", "Verdict"),
    "file": ("Tệp", "File"),
    "received_at": ("Nhận lúc", "Received"),
    "stored_at": ("Lưu vào kho lúc", "Stored"),
    "counts": ("Lỗi / cảnh báo", "Errors / warnings"),
    "errors": ("lỗi", "errors"),
    "warnings": ("cảnh báo", "warnings"),
    "values": ("giá trị", "values"),
    "late": ("muộn", "late"),
    "on_time": ("đúng hạn", "on time"),
    "problems": ("Các vấn đề", "Problems"),
    "location": ("Vị trí", "Location"),
    "indicator": ("Chỉ tiêu", "Indicator"),
    "value": ("Giá trị", "Value"),
    "expected": ("Yêu cầu", "Expected"),
    "what_to_do": ("Cần làm", "What to do"),
    "rule": ("Quy tắc", "Rule"),
    "no_problems": ("Không phát hiện vấn đề nào.", "No problems found."),
    "send_another": ("Gửi tệp khác", "Send another file"),
    "v_unreadable": ("KHÔNG ĐỌC ĐƯỢC", "UNREADABLE"),
    "v_refused": ("KHÔNG ĐƯỢC GỬI", "REFUSED"),
    "st_not_delivered": (
        "Tệp không được gửi vào kho.",
        "The file was not delivered to the warehouse.",
    ),
    "st_queued": ("Đang chờ lưu vào kho…", "Waiting to be stored…"),
    "st_running": ("Đang lưu vào kho…", "Being stored…"),
    "st_submitted": (
        "Đã giao cho luồng nhập (Prefect, lượt {run}{state}); đang chờ lưu vào kho…",
        "Handed to the ingest flow (Prefect run {run}{state}); waiting to be stored…",
    ),
    "st_scheduled": (
        "Đã gửi vào hộp thư; lượt nhập định kỳ (15 phút một lần) sẽ lưu vào kho.",
        "Delivered to the inbox; the scheduled ingest (every 15 minutes) will store it.",
    ),
    "st_failed": ("Chưa lưu được vào kho: {why}", "Not stored yet: {why}"),
    "st_waiting": ("Đang chờ lưu vào kho: {why}", "Waiting to be stored: {why}"),
    "st_retrying": (
        "Đang lưu lại vào kho (lần thứ {n}): lần trước cổng dừng giữa chừng. Tệp vẫn an toàn"
        " và chỉ được lưu một lần…",
        "Being stored again (attempt {n}): the portal stopped midway last time. The file is"
        " safe and will be stored once…",
    ),
    "st_interrupted": (
        "Việc lưu bị gián đoạn vì cổng dừng giữa chừng. Tệp vẫn an toàn trong hộp thư đến và"
        " sẽ tự động được lưu khi bộ phận xử lý nền chạy lại…",
        "Storing was interrupted: the portal stopped midway. The file is safe in the inbox and"
        " will be stored automatically when the background worker runs again…",
    ),
    "st_stored": ("Đã lưu vào kho lúc {at}. {line}", "Stored in the warehouse at {at}. {line}"),
    # submissions
    "submissions_title": ("Báo cáo đã gửi", "My submissions"),
    "in_progress": (
        "Tệp vừa gửi, đang xử lý hoặc không gửi được",
        "Recent uploads not in the warehouse",
    ),
    "versions_in_warehouse": ("Các phiên bản trong kho", "Versions in the warehouse"),
    "version": ("Phiên bản", "Version"),
    "status": ("Trạng thái", "Status"),
    "report": ("Báo cáo", "Report"),
    "no_versions": ("Chưa có phiên bản nào cho kỳ này.", "No version for this period yet."),
    "s_accepted": ("được chấp nhận", "accepted"),
    "s_accepted_with_warnings": ("chấp nhận, có cảnh báo", "accepted with warnings"),
    "s_rejected": ("bị từ chối", "rejected"),
    "s_held": ("giữ lại (kỳ đã khóa)", "held (period locked)"),
    "s_superseded": ("đã được thay thế", "superseded"),
    "s_unreadable": ("không đọc được", "unreadable"),
    "s_refused": ("không được gửi", "refused"),
    # steward
    "steward_title": ("Theo dõi báo cáo", "Reporting"),
    "approval": ("Phê duyệt", "Approval"),
    "state": ("Tình trạng", "State"),
    "a_open": ("chưa phê duyệt", "open"),
    "a_approved": ("đã phê duyệt", "approved"),
    "a_accepted": ("cấp trên đã tiếp nhận", "accepted above"),
    "a_by": ("{state} bởi {actor} lúc {at}", "{state} by {actor} at {at}"),
    "consolidated_at": ("tổng hợp lúc", "consolidated at"),
    "not_consolidated": ("chưa tổng hợp kỳ này", "not consolidated yet"),
    "last_consolidation": ("Lần tổng hợp gần nhất", "Last consolidation"),
    "btn_consolidate": ("Tổng hợp", "Consolidate"),
    "btn_approve": ("Phê duyệt", "Approve"),
    "btn_accept": ("Tiếp nhận", "Accept"),
    "btn_unapprove": ("Hủy phê duyệt", "Unapprove"),
    "approval_order": (
        "Thứ tự: tổng hợp kỳ, các đơn vị cấp dưới phê duyệt trước, rồi phê duyệt đơn vị này; cấp "
        "trên tiếp nhận. Nếu chưa đúng thứ tự, lý do được nêu rõ.",
        "Order: consolidate the period, the units below approve first, then this unit approves; "
        "the level above accepts. Out of order, the reason is shown.",
    ),
    "grid_title": ("Tình hình báo cáo của các đơn vị trực thuộc", "Reports of the units below"),
    "rejected_n": ("Bị từ chối", "Rejected"),
    "held_n": ("Giữ lại", "Held"),
    "children_done": ("Cấp dưới đã báo cáo", "Units below reported"),
    "cross_level": ("Chênh lệch giữa các cấp", "Cross-level issues"),
    "problem": ("Vấn đề", "Problem"),
    "likely_cause": ("Nguyên nhân có thể", "Likely cause"),
    "no_cross_level": ("Không có chênh lệch giữa các cấp.", "No cross-level issue."),
    "timeliness": ("Đơn vị gửi", "Unit's report"),
    "g_on_time": ("đúng hạn", "on time"),
    "g_late": ("muộn", "late"),
    "g_missing": ("chưa báo cáo", "missing"),
    "g_rejected": ("bị từ chối", "rejected"),
    "g_held": ("giữ lại", "held"),
    "g_received": ("đã nhận (chưa tổng hợp)", "received (not consolidated)"),
    "comp_line": (
        "{received}/{expected} {what} đã báo cáo ({pct}), đúng hạn {on_time}, muộn {late}, thiếu "
        "{missing}; hạn gửi {deadline}.",
        "{received}/{expected} {what} reported ({pct}), {on_time} on time, {late} late, "
        "{missing} missing; deadline {deadline}.",
    ),
    "done_consolidate": (
        "Đã bắt đầu tổng hợp {unit} {period}.",
        "Consolidation of {unit} {period} started.",
    ),
    "done_approve": ("Đã phê duyệt {unit} {period}.", "{unit} {period} approved."),
    "done_accept": ("Đã tiếp nhận {unit} {period}.", "{unit} {period} accepted."),
    "done_unapprove": (
        "Đã hủy phê duyệt {unit} {period}{released}.",
        "{unit} {period} unapproved{released}.",
    ),
    "released": (
        "; {n} phiên bản được giữ lại nay thành hiện hành",
        "; {n} held versions released",
    ),
    "refused_action": ("Không thực hiện được: {why}", "Not done: {why}"),
    "busy": (
        "Kho dữ liệu đang được ghi bởi tiến trình khác; thử lại sau ít giây.",
        "The warehouse is being written by another process; try again in a few seconds.",
    ),
    "accept_own": (
        "Đơn vị cấp trên tiếp nhận số liệu đã phê duyệt của {unit}, không phải chính đơn vị đó.",
        "The level above accepts {unit}'s approved figures, not {unit} itself.",
    ),
    "job_queued": ("đang chờ", "queued"),
    "job_running": ("đang chạy", "running"),
    "job_completed": ("xong", "completed"),
    "job_failed": ("lỗi", "failed"),
    "job_interrupted": (
        "bị gián đoạn vì cổng dừng giữa chừng; sẽ tự chạy lại",
        "interrupted: the portal stopped midway; it will run again by itself",
    ),
    "job_rerunning": ("đang chạy lại (lần thứ {n})", "running again (attempt {n})"),
    "job_submitted": ("đã giao cho Prefect", "handed to Prefect"),
    "job_counts": (
        "{received}/{expected} đơn vị cấp dưới có số liệu, {issues} vấn đề",
        "{received}/{expected} units below with figures, {issues} issues",
    ),
    "no_grid_commune": ("Xã không có đơn vị trực thuộc.", "A commune has no units below it."),
    # province
    "province_title": ("Số liệu tổng hợp", "Consolidated figures"),
    "chart_indicator": ("Chỉ tiêu trên biểu đồ", "Indicator charted"),
    "summary_html": ("Báo cáo tổng hợp kỳ", "Period summary"),
    "download_docx": ("Tải văn bản Word (.docx)", "Download the Word document (.docx)"),
    "download_xlsx": ("Tải Excel (.xlsx)", "Download Excel (.xlsx)"),
    "download_parquet": ("Tải Parquet (.zip)", "Download Parquet (.zip)"),
    "unit_of": ("Đơn vị tính", "Unit"),
    "vs_last_year": ("So với cùng kỳ", "vs same period last year"),
    "target": ("Chỉ tiêu giao", "Target"),
    "attainment": ("Đánh giá", "Attainment"),
    "source": ("Nguồn", "Source"),
    "src_own": ("đơn vị báo cáo", "own report"),
    "src_children": ("cộng từ cấp dưới", "from the units below"),
    "att_exceeded": ("vượt {p}", "exceeded by {p}"),
    "att_reached": ("đạt", "reached"),
    "att_missed": ("chưa đạt, thiếu {p}", "missed by {p}"),
    "no_last_year": ("chưa có số liệu cùng kỳ", "no figure for last year"),
    "points": ("điểm", "points"),
    "no_rollup": (
        "Chưa có số liệu tổng hợp của {unit} kỳ {period}: cán bộ thống kê cần tổng hợp kỳ này.",
        "No consolidated figures for {unit} {period} yet: the steward must consolidate it.",
    ),
    "chart_trend": ("{label}: diễn biến theo tháng", "{label}: month by month"),
    "chart_units": ("{label} theo đơn vị, kỳ {period}", "{label} by unit, {period}"),
    "axis_period": ("Kỳ (tháng)", "Period (month)"),
    "axis_unit": ("Đơn vị", "Unit"),
    "target_line": ("chỉ tiêu {op} {v}", "target {op} {v}"),
    # lists and counts (n: the count; English takes the _one form for 1)
    "n_errors": ("{n} lỗi", "{n} errors"),
    "n_errors_one": ("{n} lỗi", "{n} error"),
    "n_warnings": ("{n} cảnh báo", "{n} warnings"),
    "n_warnings_one": ("{n} cảnh báo", "{n} warning"),
    "n_values": ("{n} giá trị", "{n} values"),
    "n_values_one": ("{n} giá trị", "{n} value"),
    "all": ("Tất cả", "All"),
    "submissions_of_period": ("Báo cáo đã gửi của kỳ", "Submissions of the period"),
    "form_of_period": ("Biểu mẫu của kỳ", "The form of the period"),
    "sent_by": ("Người gửi", "Sent by"),
    "cancel": ("Quay lại, không làm", "Cancel"),
    # landing, periods and the 2025 reform
    "not_in_period_title": ("Đơn vị không có trong kỳ này", "Not a unit of this period"),
    "go_latest": ("Xem kỳ {period}", "Show {period}"),
    "reform_unit": (
        "{unit} không còn từ {since} (sắp xếp đơn vị hành chính năm 2025); số liệu ở đây là "
        "của các kỳ trước đó. Địa bàn nay thuộc:",
        "{unit} no longer exists since {since} (the 2025 reorganisation of administrative "
        "units); the figures here are of the periods before. Its territory is now part of:",
    ),
    "reform_district": (
        "{unit} không còn từ {since} (bỏ cấp huyện khi sắp xếp đơn vị hành chính năm 2025); số "
        "liệu ở đây là của các kỳ trước đó. Các xã nay báo cáo thẳng về:",
        "{unit} no longer exists since {since} (districts were abolished in the 2025 "
        "reorganisation); the figures here are of the periods before. Its communes now "
        "report straight to:",
    ),
    # a unit's page
    "unit_page": ("Trang đơn vị", "Unit page"),
    "unit_reference": ("Đơn vị hành chính", "Administrative unit"),
    "no_such_unit": ("Không có đơn vị mã {unit}.", "There is no unit with code {unit}."),
    "from_date": ("từ {d}", "from {d}"),
    "until_date": ("đến {d}", "until {d}"),
    "reports_to": ("báo cáo về", "reports to"),
    "formed_from": ("Hình thành từ", "Formed from"),
    "now_part_of": ("Nay thuộc", "Now part of"),
    "unit_not_yours": (
        "Tài khoản của bạn thuộc {unit}: số liệu của đơn vị này không thuộc phạm vi của bạn. "
        "Nếu đơn vị của bạn đã được sắp xếp vào đơn vị này, đề nghị cán bộ thống kê chuyển tài "
        "khoản sang đơn vị mới.",
        "Your account belongs to {unit}: this unit's figures are outside your scope. If your "
        "unit was merged into this one, ask the statistics steward to move your account to it.",
    ),
    "uploads_title": ("Tệp đã gửi qua cổng", "Files sent through the portal"),
    "values_title": (
        "Số liệu phiên bản hiện hành, so với cùng kỳ",
        "Values of the current version, against the same period last year",
    ),
    "last_year": ("Cùng kỳ năm trước", "Same period last year"),
    "history_title": ("Các kỳ đã báo cáo", "Periods reported"),
    "open_grid": ("các đơn vị trực thuộc", "units below"),
    "tone_good": ("tốt lên", "better"),
    "tone_bad": ("xấu đi", "worse"),
    "tone_flat": ("không đánh giá", "neither"),
    "tone_same": ("không đổi", "unchanged"),
    # held versions
    "held_badge": ("GIỮ LẠI", "HELD"),
    "held_until": (
        "Phiên bản này được giữ lại đến khi {lock} được hủy phê duyệt ({by}). {who}",
        "This version is held until {lock} is unapproved ({by}). {who}",
    ),
    "held_who": (
        "Người làm được: cán bộ thống kê của {unit} (Hủy phê duyệt).",
        "Who can do it: a steward of {unit} (Unapprove).",
    ),
    "held_who_accepted": (
        "Người làm được: cán bộ thống kê của {parent} hủy tiếp nhận, rồi cán bộ thống kê của "
        "{unit} hủy phê duyệt.",
        "Who can do it: a steward of {parent} un-accepts it, then a steward of {unit} "
        "unapproves it.",
    ),
    "held_also": ("Còn bị khóa bởi: {locks}.", "Also locked by: {locks}."),
    "held_unknown": (
        "Phiên bản này được giữ lại vì kỳ đã khóa.",
        "This version is held because the period is locked.",
    ),
    # approval: DHIS2's rules, confirmations
    "btn_unaccept": ("Hủy tiếp nhận", "Un-accept"),
    "unaccept_own": (
        "Đơn vị cấp trên hủy tiếp nhận số liệu của {unit}, không phải chính đơn vị đó.",
        "The level above un-accepts {unit}'s figures, not {unit} itself.",
    ),
    "done_unaccept": (
        "Đã hủy tiếp nhận {unit} {period}: đơn vị đó nay có thể hủy phê duyệt.",
        "{unit} {period} un-accepted: that unit may now unapprove it.",
    ),
    "reopen_badge": ("Cần mở lại để cập nhật", "Reopen to update"),
    "locked_until": (
        "Kỳ đã khóa: không tổng hợp lại được đến khi {lock} được hủy phê duyệt ({by}). {who}",
        "The period is locked: it cannot be consolidated again until {lock} is unapproved "
        "({by}). {who}",
    ),
    "waits_consolidation": (
        "Chưa phê duyệt được: kỳ này chưa được tổng hợp (bấm Tổng hợp trước).",
        "Cannot be approved yet: the period is not consolidated (Consolidate first).",
    ),
    "waits_below": (
        "Chưa phê duyệt được: chờ {n} đơn vị cấp dưới được phê duyệt và tiếp nhận ({units}).",
        "Cannot be approved yet: waiting for {n} units below to be approved and accepted "
        "({units}).",
    ),
    "waits_below_one": (
        "Chưa phê duyệt được: chờ {n} đơn vị cấp dưới được phê duyệt và tiếp nhận ({units}).",
        "Cannot be approved yet: waiting for {n} unit below to be approved and accepted ({units}).",
    ),
    "back_to_grid": ("Về bảng theo dõi", "Back to the grid"),
    "confirm_approve_title": ("Phê duyệt", "Approve"),
    "confirm_approve_text": (
        "Phê duyệt {unit} kỳ {period}: số liệu của đơn vị và các đơn vị trực thuộc bị khóa; "
        "báo cáo gửi sau đó được giữ lại đến khi hủy phê duyệt.",
        "Approve {unit} {period}: its figures and those of the units below are locked; reports "
        "sent afterwards are held until it is unapproved.",
    ),
    "confirm_approve_button": ("Xác nhận phê duyệt", "Confirm the approval"),
    "confirm_approve_warn": (
        "Phê duyệt dù còn {n} cảnh báo",
        "Approve despite {n} warnings",
    ),
    "confirm_approve_warn_one": ("Phê duyệt dù còn {n} cảnh báo", "Approve despite {n} warning"),
    "open_warnings": (
        "Còn {n} cảnh báo chưa xử lý: {c} chênh lệch giữa các cấp, {p} cảnh báo bất thường "
        "trong báo cáo của đơn vị (danh sách bên dưới). Xem lại trước khi phê duyệt.",
        "{n} open warnings: {c} cross-level discrepancies, {p} plausibility warnings in the "
        "units' reports (listed below). Review them before approving.",
    ),
    "no_open_warnings": (
        "Không còn chênh lệch hay cảnh báo nào chưa xử lý.",
        "No open discrepancy or warning.",
    ),
    "open_warnings_title": ("Cảnh báo chưa xử lý", "Open warnings"),
    "kind": ("Loại", "Kind"),
    "w_consolidation": ("chênh lệch giữa các cấp", "cross-level"),
    "w_submission": ("bất thường trong báo cáo", "plausibility"),
    "confirm_unapprove_title": ("Hủy phê duyệt", "Unapprove"),
    "confirm_unapprove_text": (
        "Hủy phê duyệt {unit} kỳ {period}: kỳ được mở khóa; {n} phiên bản đang giữ lại sẽ được "
        "xét lại (bản mới nhất thành hiện hành) và số liệu tổng hợp được tính lại.",
        "Unapprove {unit} {period}: the period is unlocked; {n} held versions are reconsidered "
        "(the newest becomes current) and the rollups are recomputed.",
    ),
    "confirm_unapprove_button": ("Xác nhận hủy phê duyệt", "Confirm: unapprove"),
    "confirm_unaccept_title": ("Hủy tiếp nhận", "Un-accept"),
    "confirm_unaccept_text": (
        "Hủy tiếp nhận {unit} kỳ {period}: kỳ vẫn khóa (đã phê duyệt); sau đó đơn vị {unit} có "
        "thể hủy phê duyệt để sửa số liệu.",
        "Un-accept {unit} {period}: the period stays locked (approved); {unit} may then "
        "unapprove it to correct its figures.",
    ),
    "confirm_unaccept_button": ("Xác nhận hủy tiếp nhận", "Confirm: un-accept"),
    # audit
    "nav_audit": ("Nhật ký", "Audit"),
    "audit_title": ("Nhật ký thao tác", "Audit trail"),
    "audit_help": (
        "Mọi thao tác trên các đơn vị bạn phụ trách, mới nhất trước (tối đa {n} dòng; lọc để "
        "xem thêm).",
        "Every step on the units you cover, newest first (at most {n} rows; filter to see more).",
    ),
    "audit_none": ("Không có thao tác nào khớp bộ lọc.", "No step matches the filter."),
    "when": ("Lúc", "When"),
    "who": ("Người làm", "Who"),
    "what": ("Thao tác", "What"),
    "since": ("Từ ngày", "From"),
    "until": ("Đến ngày", "Until"),
    "status_change": ("Trạng thái", "Status change"),
    "detail": ("Chi tiết", "Detail"),
    "bad_date": ("'{text}' không phải ngày (YYYY-MM-DD).", "'{text}' is not a date (YYYY-MM-DD)."),
    "act_ingest": ("lưu phiên bản", "version stored"),
    "act_supersede": ("thay thế phiên bản", "version replaced"),
    "act_release": ("bỏ giữ lại", "held version released"),
    "act_refuse": ("từ chối tệp", "file refused"),
    "act_upload": ("gửi tệp", "upload"),
    "act_consolidate": ("tổng hợp", "consolidation"),
    "act_consolidate_start": ("bắt đầu tổng hợp", "consolidation started"),
    "act_consolidate_refused": ("tổng hợp bị từ chối", "consolidation refused"),
    "act_approve": ("phê duyệt", "approval"),
    "act_approve_refused": ("phê duyệt bị từ chối", "approval refused"),
    "act_accept": ("tiếp nhận", "acceptance"),
    "act_accept_refused": ("tiếp nhận bị từ chối", "acceptance refused"),
    "act_unaccept": ("hủy tiếp nhận", "un-acceptance"),
    "act_unaccept_refused": ("hủy tiếp nhận bị từ chối", "un-acceptance refused"),
    "act_unapprove": ("hủy phê duyệt", "unapproval"),
    "act_unapprove_refused": ("hủy phê duyệt bị từ chối", "unapproval refused"),
    "act_login": ("đăng nhập", "login"),
    "act_login_failed": ("đăng nhập sai", "failed login"),
    "act_logout": ("đăng xuất", "logout"),
    "act_login_throttled": ("đăng nhập bị chặn tạm thời", "login throttled"),
    "act_user_add": ("tạo tài khoản", "account created"),
    "act_user_disable": ("khóa tài khoản", "account disabled"),
    "act_token": ("cấp mã API", "API token issued"),
    # the summary inside the portal
    "summary_in_vietnamese": (
        "Báo cáo tổng hợp là văn bản tiếng Việt.",
        "The period summary is the document offices sign: it is in Vietnamese.",
    ),
    # api docs
    "api_intro": (
        "API JSON dưới /api. Mỗi yêu cầu gửi kèm mã truy cập: Authorization: Bearer <mã> (lệnh "
        "tonghop user token TÊN). Người dùng chỉ thấy đơn vị mình và các đơn vị trực thuộc.",
        "A JSON API under /api. Every request carries an API token: Authorization: Bearer <token> "
        "(tonghop user token NAME). A caller sees only its unit and the units below it.",
    ),
    "parameter": ("Tham số", "Parameter"),
    "param_in": ("Ở đâu", "In"),
    "yes": ("có", "yes"),
    "required": ("Bắt buộc", "Required"),
    "description": ("Mô tả", "Description"),
    "responses": ("Trả về", "Responses"),
}


def translator(lang: str) -> Callable[..., str]:
    """t(key, **fields) in the language; an unknown key shows itself (and a test catches it).
    Number fields are formatted for the language; `n=1` picks the key's `_one` form."""
    k = 0 if lang != "en" else 1
    lang = "en" if k else "vi"

    def t(key: str, **fields: object) -> str:
        if fields.get("n") == 1 and f"{key}_one" in WORDS:
            key = f"{key}_one"
        pair = WORDS.get(key)
        text = pair[k] if pair else key
        if not fields:
            return text
        shown = {
            f: fmt_num(v, lang) if isinstance(v, int | float) and not isinstance(v, bool) else v
            for f, v in fields.items()
        }
        return text.format(**shown)

    return t
